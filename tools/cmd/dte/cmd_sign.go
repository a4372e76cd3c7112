package main

import (
	"context"
	"errors"
)

// TODO(owner of dte sign): replace with the real command.
func runSign(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
