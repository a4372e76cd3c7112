package main

import (
	"context"
	"errors"
)

// TODO(owner of dte send): replace with the real command.
func runSend(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
