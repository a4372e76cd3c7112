package main

import (
	"context"
	"errors"
)

// TODO(owner of dte topology): replace with the real command.
func runTopology(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
