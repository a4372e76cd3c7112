package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildFunctions builds the four function binaries into dir, static (CGO
// off) as the images are, with the workspace of the repository that holds
// this package's source (so tests and benchmarks run the code under test).
// crypto is the build's crypto, as scripts/gobuild.sh's CRYPTO: "" or
// "std", or "boringcrypto" for the functions that sign (sign and submit
// then link BoringCrypto through cgo; enqueue and notify stay CGO off).
// Not scripts/gobuild.sh itself: it strips the binaries, and the
// benchmarks' profiles (DTE_BENCH_PROFILE) need their symbols.
func BuildFunctions(ctx context.Context, dir, crypto string) error {
	if crypto != "" && crypto != "std" && crypto != "boringcrypto" {
		return fmt.Errorf("CRYPTO=%s: want std or boringcrypto", crypto)
	}
	root, err := repoRoot(ctx)
	if err != nil {
		return err
	}
	for _, fn := range Functions {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, fn), "./functions/"+fn)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if crypto == "boringcrypto" && (fn == "sign" || fn == "submit") {
			cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOEXPERIMENT=boringcrypto")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %w\n%s", fn, err, out)
		}
	}
	return nil
}

// repoRoot is the directory of the workspace's go.work.
func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOWORK: %w", err)
	}
	work := strings.TrimSpace(string(out))
	if work == "" || work == "off" {
		return "", fmt.Errorf("not inside the repository's Go workspace (go.work)")
	}
	return filepath.Dir(work), nil
}
