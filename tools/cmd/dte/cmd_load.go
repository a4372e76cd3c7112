package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dtecl/pipeline/tools/load"
)

// runLoad is `dte load`: an open-loop load generator for enqueue
// (tools/load says what that means for the figures).
func runLoad(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "load", "[flags]")
	url := fs.String("url", envOr(env, "ENQUEUE_URL", "http://127.0.0.1:8080/"), "enqueue URL (env ENQUEUE_URL)")
	secretEnv := fs.String("secret-env", "ENQUEUE_SECRET", "environment variable holding the signing secret (enqueue's local default when unset)")
	rate := fs.Float64("rate", 500, "requests per second")
	duration := fs.Duration("duration", 60*time.Second, "how long to offer requests")
	inFlight := fs.Int("max-in-flight", 256, "at most this many requests open at once (a request due while all are busy waits, and the wait counts in its latency)")
	timeout := fs.Duration("timeout", 10*time.Second, "per request")
	samples := fs.String("samples", "samples/requests", "folder of sample DTE requests, one per type")
	types := fs.String("types", "33", `document types to send, in turn ("33,34,52,56,61"; "all": every sample)`)
	issuer := fs.String("issuer", "", "issuer RUT to write into every request (default: the samples')")
	first := fs.Int64("first-folio", 0, "folio of the first request; each next one +1 (default: derived from the clock, so that runs do not repeat folios)")
	jsonOut := fs.String("json", "", "also write the summary as JSON to this file")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{code: 2}
	}
	var ts []int
	if *types != "all" {
		for _, f := range strings.Split(*types, ",") {
			t, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return exitError{code: 2, msg: fmt.Sprintf("dte load: -types %q: %q is not a document type", *types, f)}
			}
			ts = append(ts, t)
		}
	}
	if *first == 0 {
		*first = clockFolio(time.Now())
	}
	bodies, err := load.NewBodies(*samples, load.SampleOptions{Types: ts, Issuer: *issuer, FirstFolio: *first})
	if err != nil {
		return fmt.Errorf("dte load: %w", err)
	}
	secret := env.getenv(*secretEnv)
	if secret == "" {
		fmt.Fprintf(env.stderr, "dte load: %s is not set: signing with enqueue's local development secret\n", *secretEnv)
		secret = devEnqueueSecret
	}
	cfg := load.Config{
		URL: *url, Secret: []byte(secret), Rate: *rate, Duration: *duration,
		MaxInFlight: *inFlight, Timeout: *timeout, Bodies: bodies,
	}
	fmt.Fprintf(env.stderr, "dte load: %d requests (types %v, folios %d…%d) at %g/s for %s to %s\n",
		cfg.Requests(), bodies.Types(), *first, *first+int64(cfg.Requests())-1, *rate, *duration, *url)
	sum, runErr := load.Run(ctx, cfg)
	if sum == nil {
		return runErr
	}
	if err := sum.WriteText(env.stdout); err != nil {
		return err
	}
	if *jsonOut != "" {
		f, err := os.Create(*jsonOut)
		if err != nil {
			return err
		}
		if err := errors.Join(sum.WriteJSON(f), f.Close()); err != nil {
			return fmt.Errorf("dte load: -json: %w", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	if n := sum.Failed(); n > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%d of %d requests were not accepted", n, sum.Sent)}
	}
	return nil
}

// clockFolio is a first folio from the clock: the second (modulo 9
// million, about 104 days) × 1000, so that runs started apart do not repeat
// folios as long as they send under 1,000 requests for each second between
// them; at most 9,000,000,001, inside the SII's 10 digits.
func clockFolio(t time.Time) int64 {
	return (t.Unix()%9_000_000)*1000 + 1
}
