package main

import (
	"context"
	"errors"
)

// TODO(owner of dte envelope): replace with the real command.
func runEnvelope(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
