package main

import (
	"context"
	"errors"
)

// TODO(owner of dte status): replace with the real command.
func runStatus(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
