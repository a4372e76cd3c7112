package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/tools/local"
)

// rutList is a repeatable, comma-separated flag of RUTs, each checked
// (format and check digit) and kept in its canonical form.
type rutList []string

func (l *rutList) String() string { return strings.Join(*l, ",") }

func (l *rutList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r, err := rut.Parse(part)
		if err != nil {
			return fmt.Errorf("RUT %q: %w", part, err)
		}
		if !slices.Contains(*l, r.String()) {
			*l = append(*l, r.String())
		}
	}
	return nil
}

// prepareVHost makes sure the broker's vhost exists (creating `dte local`'s
// own) and says whether its queues may be emptied: only in that own vhost,
// never in one that other programs may use.
func prepareVHost(ctx context.Context, env *cliEnv, amqpURL string) (bool, error) {
	vhost, err := local.VHostOf(amqpURL)
	if err != nil {
		return false, err
	}
	own := vhost == local.DefaultVHost
	if !own {
		created, err := local.EnsureVHost(ctx, amqpURL)
		if err == nil && created {
			fmt.Fprintf(env.stdout, "created the RabbitMQ vhost %q\n", vhost)
		}
		return false, err
	}
	created, err := local.EnsureVHost(ctx, amqpURL)
	if err != nil {
		return false, err
	}
	if created {
		fmt.Fprintf(env.stdout, "created the RabbitMQ vhost %q (dte local's own; its queues are emptied at each start)\n", vhost)
	}
	return true, nil
}

// checkOdoo asks the real Odoo's callback route, unsigned, whether it is
// there: the addon answers 401 "invalid signature" for the database it
// serves. Odoo not running yet is only a warning (notify keeps retrying and
// dead-letters what it cannot deliver); any other answer is a configuration
// mistake worth stopping for.
func checkOdoo(ctx context.Context, env *cliEnv, odooURL, db string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, odooURL, bytes.NewReader([]byte("{}")))
	if err != nil {
		return fmt.Errorf("--odoo-url: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if db != "" {
		req.Header.Set(callback.HeaderDatabase, db)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(env.stdout, "warning: Odoo does not answer at %s yet (%v); start it before sending invoices\n", odooURL, err)
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var answer struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &answer)
	switch {
	case resp.StatusCode == http.StatusUnauthorized && answer.Error == "invalid signature":
		return nil
	case resp.StatusCode == http.StatusNotFound && db == "":
		return fmt.Errorf("Odoo answered 404 at %s: pass --odoo-db with the database that has the addon (Odoo serves several databases) or install l10n_cl_dte_async", odooURL)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("Odoo answered 404 at %s for database %q: is l10n_cl_dte_async installed there, and is the database name right?", odooURL, db)
	default:
		return fmt.Errorf("Odoo's callback route at %s answered %d, not the addon's 401 to an unsigned call: %.200s", odooURL, resp.StatusCode, body)
	}
}

// serveRealOdoo prints what Odoo's settings must say and keeps the stack
// running until Ctrl-C: the invoices come from Odoo, each status goes back
// to it.
func serveRealOdoo(ctx context.Context, env *cliEnv, f *localFlags, stack *local.Stack) error {
	secret := func(value, dev, flagName, envName string) string {
		if value == dev {
			return fmt.Sprintf("%q (the local development value)", value)
		}
		return fmt.Sprintf("the value of --%s / %s", flagName, envName)
	}
	fmt.Fprintf(env.stdout, `
In Odoo (database %s), Ajustes › Contabilidad › DTE asíncrono (Chile):
  URL del servicio de envío   %s
  Secreto de envío            %s
  Secreto de notificación     %s
and the company's RUT must be one of: %s (test CAFs, folios 1-100000 of 33, 34, 52, 56, 61).
Then post an invoice and click «Enviar DTE (async)»: its status follows the pipeline.
notify's log (each callback and Odoo's answer): %s
Ctrl-C stops everything.
`, orUnknown(f.odooDB), stack.EnqueueURL,
		secret(f.enqueueSecret, local.EnqueueSecret, "enqueue-secret", "ENQUEUE_SECRET"),
		secret(f.callbackSecret, local.CallbackSecret, "callback-secret", "CALLBACK_SECRET"),
		strings.Join(f.issuers, ", "), stack.LogFile("notify"))
	<-ctx.Done()
	return nil
}

func orUnknown(db string) string {
	if db == "" {
		return "(the one with the addon)"
	}
	return db
}
