package signerbench

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dtecl/pipeline/shared/dte"
)

// PythonScript is the Python/OpenSSL peer (lxml, python3-cryptography,
// xmlsec), written next to the fixture and run with the Python given.
//
//go:embed sign_dte.py
var PythonScript []byte

// WorkerMain is a Go worker: the flags the Python worker takes too.
//
//	-fixture DIR -request FILE -for SECONDS   sign for that long, print a Result
//	-fixture DIR -request FILE -at TIME -out FILE   one DTE signed at TIME
func WorkerMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fixture := fs.String("fixture", "", "the fixture directory (WriteFixture)")
	req := fs.String("request", "", "the DTE request to sign")
	secs := fs.Float64("for", 3, "seconds to sign for")
	at := fs.String("at", "", "sign one DTE at this Chile time (YYYY-MM-DDTHH:MM:SS) into -out")
	out := fs.String("out", "", "where -at writes the DTE")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fixture == "" || *req == "" {
		return errors.New("worker: -fixture and -request are required")
	}
	if *at != "" {
		if *out == "" {
			return errors.New("worker: -at needs -out")
		}
		t, err := dte.ParseTimestamp(*at)
		if err != nil {
			return fmt.Errorf("worker: -at: %w", err)
		}
		x, err := SignAt(ctx, *fixture, *req, t)
		if err != nil {
			return err
		}
		return os.WriteFile(*out, x, 0o644)
	}
	if *secs <= 0 {
		return fmt.Errorf("worker: -for %g: must be positive", *secs)
	}
	res, err := Work(ctx, *fixture, *req, time.Duration(*secs*float64(time.Second)))
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}
