// Package servetest runs a function's main in a child process, so that a
// test can see what an operator sees: the exit status and the message.
// Only the functions' tests import it.
package servetest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

// envChild marks the child process: the test binary run as the function.
const envChild = "DTE_SERVETEST_RUN_MAIN"

// Main is a TestMain that runs main instead of the tests when the binary
// was started by RunMain.
func Main(m *testing.M, main func()) {
	if os.Getenv(envChild) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// RunMain runs the test binary as the function with only env (and PATH)
// in its environment, and returns its exit status and output. The function
// must exit by itself (RunMain is for start-up failures); it is killed
// after a minute.
func RunMain(t *testing.T, env ...string) (status int, output string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append([]string{envChild + "=1", "PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("run %s as the function: %v", os.Args[0], err)
	return 0, ""
}
