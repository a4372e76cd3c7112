package main

import "github.com/dtecl/pipeline/shared/config"

func LoadConfig(env *config.Env, prefix string) string {
	return env.String(prefix+"_URL", "")
}
