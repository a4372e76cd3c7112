package lib

import "github.com/dtecl/pipeline/shared/config"

func FromEnv(env *config.Env) {
	_ = env.String("LIB_VAR", "")
	_, _ = env.Secret("LIB_SECRET", "")
}
