package main

import (
	"context"
	"errors"
)

// TODO(owner of dte verify): replace with the real command.
func runVerify(ctx context.Context, env *cliEnv, args []string) error {
	return errors.New("not implemented yet")
}
