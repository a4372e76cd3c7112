package main

import (
	"context"
	"errors"
)

// TODO(owner of dte dead): replace with the real command.
func runDead(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
