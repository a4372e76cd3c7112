package main

import (
	"context"
	"errors"
)

// TODO(owner of dte local): replace with the real command.
func runLocal(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
