package main

import (
	"os"

	"github.com/dtecl/pipeline/shared/config"
)

func LoadConfig(env *config.Env) string {
	_ = env.String("SEEN", "")
	return os.Getenv("HIDDEN")
}
