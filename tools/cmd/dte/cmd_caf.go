package main

import (
	"context"
	"errors"
)

// TODO(owner of dte caf): replace with the real command.
func runCAF(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
