package main

import (
	"context"
	"errors"
)

// TODO(owner of dte siisim): replace with the real command.
func runSIISim(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
