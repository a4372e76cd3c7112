package main

import (
	"time"

	"example.com/lib"
	"github.com/dtecl/pipeline/shared/config"
)

const nameConst = "FROM_CONST"

type Config struct{}

func LoadConfig(env *config.Env) (Config, error) {
	_ = env.String("PLAIN", "x")
	_ = env.Int("PORT", 8080)
	_ = env.Duration("WAIT", time.Second)
	_ = env.Required(nameConst)
	_, _ = env.Secret("TOKEN", "")
	helper(env)
	lib.FromEnv(env)
	return Config{}, env.Err()
}

func helper(e *config.Env) { _ = e.Bool("FLAG", true) }

// notAnEntry has no *config.Env: its reads do not count.
func notAnEntry(m map[string]string) { _ = m["IGNORED"] }
