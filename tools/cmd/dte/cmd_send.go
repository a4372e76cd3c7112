package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/webhook"
)

// Defaults shared with the functions, from their declarations: the local
// broker, and the secret enqueue accepts in development mode.
var (
	defaultAMQPURL   = config.DefaultOf(config.Broker{}, "AMQP_URL")
	devEnqueueSecret = config.DevValueOf(config.Enqueue{}, "ENQUEUE_SECRET")
)

func runSend(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "send", "[flags] FILE.json...")
	url := fs.String("url", envOr(env, "ENQUEUE_URL", "http://127.0.0.1:8080/"), "enqueue URL (env ENQUEUE_URL)")
	secretEnv := fs.String("secret-env", "ENQUEUE_SECRET", "environment variable holding the signing secret (when unset: the secret enqueue takes with DTE_DEV_MODE=true)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the answer")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError{code: 2}
	}
	secret := env.getenv(*secretEnv)
	if secret == "" {
		secret = devEnqueueSecret
	}
	failed := 0
	for _, file := range fs.Args() {
		body, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		status, answer, err := send(ctx, *url, []byte(secret), body, *timeout)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		fmt.Fprintf(env.stdout, "%s: %d %s\n%s\n", file, status, http.StatusText(status), answer)
		if status != http.StatusAccepted {
			failed++
		}
	}
	if failed > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%d of %d requests were not accepted", failed, fs.NArg())}
	}
	return nil
}

// send POSTs body the way the Odoo addon does: JSON, signed with the
// enqueue secret. It returns the status and the answer, indented.
func send(ctx context.Context, url string, secret, body []byte, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.Header, webhook.Sign(secret, time.Now(), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("post to %s: %w", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, "", fmt.Errorf("read answer: %w", err)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") != nil {
		return resp.StatusCode, string(raw), nil
	}
	return resp.StatusCode, pretty.String(), nil
}

func envOr(env *cliEnv, key, def string) string {
	if v := env.getenv(key); v != "" {
		return v
	}
	return def
}
