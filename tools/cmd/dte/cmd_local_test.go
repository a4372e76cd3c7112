package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/tools/local"
)

func localEnv(vars map[string]string) (*cliEnv, *bytes.Buffer) {
	var out bytes.Buffer
	return &cliEnv{stdout: &out, stderr: &out, getenv: func(k string) string { return vars[k] }}, &out
}

func TestLocalFlagsDefaults(t *testing.T) {
	env, _ := localEnv(nil)
	f, err := parseLocalFlags(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.amqpURL != "amqp://guest:guest@127.0.0.1:5672/"+local.DefaultVHost {
		t.Errorf("amqp URL %q: the default is dte local's own vhost", f.amqpURL)
	}
	if f.ports != local.DefaultPorts || f.ports.Odoo == 8069 {
		t.Errorf("ports %+v: the defaults, with the fake Odoo off Odoo's 8069", f.ports)
	}
	if f.enqueueSecret != local.EnqueueSecret || f.callbackSecret != local.CallbackSecret {
		t.Errorf("secrets %q %q: the local development values by default", f.enqueueSecret, f.callbackSecret)
	}
	if f.odooURL != "" || len(f.issuers) != 0 {
		t.Errorf("odoo URL %q issuers %v", f.odooURL, f.issuers)
	}
}

func TestLocalFlagsForARealOdoo(t *testing.T) {
	env, _ := localEnv(map[string]string{"ENQUEUE_SECRET": "from-env", "CALLBACK_SECRET": "cb-env", "AMQP_URL": "amqp://u:p@h:5672/mine"})
	f, err := parseLocalFlags(env, []string{
		"--odoo-url", "http://127.0.0.1:18069/api/dte/callback", "--odoo-db", "dte_demo",
		"--issuer", "76086428-5, 96790240-3", "--issuer", "76086428-5",
		"--callback-secret", "cb-flag", "--enqueue-port", "18080", "--sii-port", "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.issuers, " "); got != "76086428-5 96790240-3" {
		t.Errorf("issuers %q: canonical, each once", got)
	}
	if f.enqueueSecret != "from-env" || f.callbackSecret != "cb-flag" {
		t.Errorf("secrets %q %q: the flag wins over the environment", f.enqueueSecret, f.callbackSecret)
	}
	if f.amqpURL != "amqp://u:p@h:5672/mine" || f.ports.Enqueue != 18080 || f.ports.SII != 0 || f.odooDB != "dte_demo" {
		t.Errorf("flags %+v", f)
	}
	ranges := cafRanges(nil, f.issuers)
	if len(ranges) != 10 {
		t.Fatalf("CAF ranges %v: five types for each of two issuers", ranges)
	}
	for _, r := range ranges {
		if r.From != 1 || r.To != 100000 {
			t.Errorf("range %+v", r)
		}
	}
}

func TestLocalFlagsRefused(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"no issuer for a real Odoo": {[]string{"--odoo-url", "http://127.0.0.1:18069/api/dte/callback"}, "--issuer"},
		"not a URL":                 {[]string{"--odoo-url", "127.0.0.1:18069", "--issuer", "76086428-5"}, "want an http(s) URL"},
		"not the callback route":    {[]string{"--odoo-url", "http://127.0.0.1:18069/web", "--issuer", "76086428-5"}, "ends in /api/dte/callback"},
		"bad check digit":           {[]string{"--issuer", "76086428-4"}, "76086428-4"},
		"port out of range":         {[]string{"--notify-port", "70000"}, "--notify-port 70000"},
		"database name":             {[]string{"--odoo-db", "a b"}, "--odoo-db"},
		"AMQP scheme":               {[]string{"--amqp-url", "http://127.0.0.1/"}, "scheme must be amqp"},
		"stray argument":            {[]string{"samples"}, "unexpected argument"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			env, out := localEnv(nil)
			_, err := parseLocalFlags(env, c.args)
			if err == nil {
				t.Fatalf("%v accepted", c.args)
			}
			if !strings.Contains(err.Error()+out.String(), c.want) {
				t.Errorf("error %q (output %q) does not say %q", err, out.String(), c.want)
			}
		})
	}
}

func TestLoadSamplesWithDatabase(t *testing.T) {
	reqs, err := loadSamples(filepath.Join("..", "..", "..", "samples", "requests"), "dte_demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) == 0 {
		t.Fatal("no samples")
	}
	for _, r := range reqs {
		var m struct {
			Odoo struct {
				Database string `json:"database"`
			} `json:"odoo"`
		}
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatal(err)
		}
		if m.Odoo.Database != "dte_demo" {
			t.Errorf("%s: database %q", r.file, m.Odoo.Database)
		}
	}
	if _, err := loadSamples(t.TempDir(), ""); err == nil {
		t.Error("an empty samples folder was accepted")
	}
}

// odooAnswer is an Odoo callback route that answers status with body, and
// records the database header it was asked for.
func odooAnswer(t *testing.T, status int, body string, gotDB *string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*gotDB = r.Header.Get("X-Odoo-Database")
		if r.Method != http.MethodPost || r.Header.Get("X-DTE-Signature") != "" {
			t.Errorf("probe: %s with signature %q", r.Method, r.Header.Get("X-DTE-Signature"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/dte/callback"
}

func TestCheckOdoo(t *testing.T) {
	ctx := context.Background()
	var db string
	env, out := localEnv(nil)
	ok := odooAnswer(t, 401, `{"error": "invalid signature", "detail": "missing"}`, &db)
	if err := checkOdoo(ctx, env, ok, "dte_demo"); err != nil || db != "dte_demo" {
		t.Errorf("the addon's 401: %v (database header %q)", err, db)
	}
	cases := []struct {
		status int
		body   string
		db     string
		want   string
	}{
		{404, `<html>not found</html>`, "", "pass --odoo-db"},
		{404, `{"error": "unknown database"}`, "other", `database "other"`},
		{200, `<html>a page</html>`, "", "answered 200"},
		{401, `{"error": "unauthorized"}`, "", "not the addon's 401"},
	}
	for _, c := range cases {
		url := odooAnswer(t, c.status, c.body, &db)
		err := checkOdoo(ctx, env, url, c.db)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d %s: %v, want an error saying %q", c.status, c.body, err, c.want)
		}
	}
	// not running yet: a warning, not an error
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if err := checkOdoo(ctx, env, closed.URL+"/api/dte/callback", ""); err != nil {
		t.Errorf("Odoo not started yet: %v, want a warning only", err)
	}
	if !strings.Contains(out.String(), "warning: Odoo does not answer") {
		t.Errorf("no warning printed: %q", out.String())
	}
}

func TestMakeRunPassesTheFlags(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--odoo-url '$(ODOO_URL)'", "--odoo-db '$(ODOO_DB)'", "--issuer '$(ISSUERS)'", "$(LOCAL_FLAGS)",
		"out/dte local $(LOCAL_ARGS)"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("Makefile: `make run` does not pass %s", want)
		}
	}
}

// TestWhereArchived: `dte local` speaks of plain files only for this
// checkout's versitygw; anywhere else it points at an S3 client.
func TestWhereArchived(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(filepath.Join(localDataDir, "dte-archive"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  archive.S3Config
		want string
	}{
		{"this checkout's versitygw", archive.S3Config{Endpoint: defaultS3Endpoint, Bucket: "dte-archive"}, "plain files under .run/s3/data/dte-archive/"},
		{"MinIO", archive.S3Config{Endpoint: "http://127.0.0.1:7080", Bucket: "dte-archive"}, "bucket dte-archive at http://127.0.0.1:7080: browse it with any S3 client"},
		{"another bucket on the local port", archive.S3Config{Endpoint: defaultS3Endpoint, Bucket: "other"}, "bucket other at " + defaultS3Endpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := whereArchived(tt.cfg)
			if !strings.Contains(got, tt.want) {
				t.Fatalf("%q, want %q in it", got, tt.want)
			}
			if tt.cfg.Endpoint != defaultS3Endpoint && strings.Contains(got, "plain files") {
				t.Fatalf("claims plain files for %s: %q", tt.cfg.Endpoint, got)
			}
		})
	}
}
