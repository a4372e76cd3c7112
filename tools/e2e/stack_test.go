package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/webhook"
	"github.com/dtecl/pipeline/tools/local"
)

// Paths seen from this package.
const (
	samplesDir = repoRoot + "/samples/requests"
)

// testBucket is the archive bucket of these tests; each stack has its own
// issuer RUT in it, so stacks never see each other's objects.
const testBucket = "dte-e2e"

// docTypes are the five document types, one sample each.
var docTypes = []int{33, 34, 52, 56, 61}

// samples maps a document type to its sample request.
var samples = map[int]string{
	33: "factura-33.json", 34: "factura-exenta-34.json", 52: "guia-despacho-52.json",
	56: "nota-debito-56.json", 61: "nota-credito-61.json",
}

// Generous deadlines: a slow machine makes a test slower, never red.
const (
	settleTimeout = 90 * time.Second
	pollEvery     = 100 * time.Millisecond
)

// stackOptions vary a stack per test.
type stackOptions struct {
	// functionEnv adds environment variables per function.
	functionEnv map[string][]string
	// s3 is the server and bucket kind of the archive (default versitygw).
	s3 *archivetest.Target
	// startUnready starts the functions without waiting for them to be
	// ready (local.Config.StartUnready).
	startUnready bool
	// dashboard also runs the operations dashboard, with this operator
	// token.
	dashboardToken string
	// dispatcherProcess runs the dispatcher as a process the test can kill.
	dispatcherProcess bool
	// notifyParallelism: 1 delivers Odoo's callbacks one at a time, as kn/
	// does; 0 is the local stack's default (4 documents at once, each
	// document's callbacks in order).
	notifyParallelism int
	// replicas runs sign and submit as several processes each
	// (local.Config.Replicas).
	replicas map[string]int
}

// stack is a local pipeline for one test: its own vhost, issuer RUT,
// ports, work directory, simulator and fake Odoo.
type stack struct {
	*local.Stack
	t       *testing.T
	issuer  rut.RUT
	amqpURL string // the test's own vhost
	work    string
	log     *logBuffer // the dispatcher's and the simulator's lines
	// suspects are the documents a check failed on (shared by the
	// stack's copies in subtests).
	suspects *suspects
}

// newStack starts a stack for t and stops it when t ends. It skips (fails
// under CI=true) when RabbitMQ, the S3 server or xmllint are missing.
func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	s3 := requireS3(t)
	if o.s3 != nil {
		s3 = o.s3.Bucket(t, testBucket)
	}
	dtetest.NeedTool(t, "xmllint") // the simulator validates every upload
	vhost := bustest.VHost(t)
	work := t.TempDir()
	s := &stack{t: t, issuer: randomIssuer(), amqpURL: vhost, work: work, log: &logBuffer{}, suspects: &suspects{}}
	var cafs []local.CAFRange
	for _, typ := range docTypes {
		cafs = append(cafs, local.CAFRange{Issuer: s.issuer.String(), Type: typ, From: 1, To: 100000})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := local.Start(ctx, local.Config{
		BinDir: binDir, WorkDir: work, AMQPURL: vhost, S3: s3,
		CAFs: cafs, SIIStep: 50 * time.Millisecond, FunctionEnv: o.functionEnv, StartUnready: o.startUnready,
		Dashboard: o.dashboardToken != "", DashboardToken: o.dashboardToken,
		DispatcherProcess: o.dispatcherProcess, NotifyParallelism: o.notifyParallelism, Replicas: o.replicas,
		Logger: slog.New(slog.NewJSONHandler(s.log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		s.dumpLogs()
		t.Fatalf("start the stack: %v", err)
	}
	s.Stack = st
	t.Cleanup(func() {
		st.Stop()
		if t.Failed() {
			s.dumpLogs()
			s.dumpSuspects()
			t.Logf("archive kept for inspection: s3://%s/{dte,state,envio}/%s/ at %s", s3.Bucket, s.issuer, s3.Endpoint)
			return
		}
		s.clearArchive()
	})
	return s
}

// in is the stack seen from a subtest: failures go to t.
func (s *stack) in(t *testing.T) *stack {
	c := *s
	c.t = t
	return &c
}

// requireS3 returns the archive configuration of the versitygw at
// TEST_S3_ENDPOINT (scripts/s3-server.sh's defaults), skipping the test when
// nothing listens there, except under CI=true.
func requireS3(t *testing.T) archive.S3Config {
	t.Helper()
	srv := archivetest.Versitygw()
	srv.Require(t)
	cfg := srv.Config(testBucket)
	cfg.Timeout = 0 // the functions' default
	return cfg
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// randomIssuer is a company RUT that no other stack (nor `dte local`, whose
// samples use 76086428-5) uses: local.Start clears its issuers' archive.
func randomIssuer() rut.RUT { return rut.New(50_000_000 + rand.Int64N(40_000_000)) }

// clearArchive deletes what the stack wrote for its issuer.
func (s *stack) clearArchive() {
	if err := clearIssuer(s.Store, s.issuer); err != nil {
		s.t.Logf("clear the archive: %v", err)
	}
}

// clearIssuer deletes every object of an issuer from the archive.
func clearIssuer(store archive.Store, issuer rut.RUT) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range []string{archive.PrefixDTE, archive.PrefixState, archive.PrefixEnvio, archive.PrefixCAF} {
		objs, err := store.List(ctx, p+issuer.String()+"/")
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := store.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// dumpLogs shows the end of every log when a test failed.
func (s *stack) dumpLogs() {
	logs := s.processLogs()
	for _, name := range slices.Sorted(maps.Keys(logs)) {
		s.t.Logf("--- %s.log (last lines)\n%s", name, tail(logs[name], 40))
	}
	s.t.Logf("--- dispatcher and simulator (last lines)\n%s", tail(s.log.bytes(), 60))
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// doc is one request the test sends.
type doc struct {
	key  dtekey.Key
	move int64
	body []byte
}

// request reads a sample request and makes it the stack's: its issuer, and
// today's date in Chile (the CAFs are authorised today). edit, if not nil,
// changes the request further (the JSON as a map).
func (s *stack) request(typ int, edit func(m map[string]any)) doc {
	s.t.Helper()
	raw, err := os.ReadFile(filepath.Join(samplesDir, samples[typ]))
	if err != nil {
		s.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		s.t.Fatal(err)
	}
	today := time.Now().In(santiago()).Format(time.DateOnly)
	d := m["document"].(map[string]any)
	d["issue_date"] = today
	delete(d, "due_date")
	m["issuer"].(map[string]any)["rut"] = s.issuer.String()
	if refs, ok := m["references"].([]any); ok {
		for _, r := range refs {
			r.(map[string]any)["date"] = today
		}
	}
	if edit != nil {
		edit(m)
	}
	body, err := json.Marshal(m)
	if err != nil {
		s.t.Fatal(err)
	}
	var r struct {
		Document struct {
			Type  int   `json:"type"`
			Folio int64 `json:"folio"`
		} `json:"document"`
		Odoo struct {
			MoveID int64 `json:"move_id"`
		} `json:"odoo"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		s.t.Fatal(err)
	}
	k, err := dtekey.New(s.issuer.String(), r.Document.Type, r.Document.Folio)
	if err != nil {
		s.t.Fatal(err)
	}
	return doc{key: k, move: r.Odoo.MoveID, body: body}
}

// allDocs is one request of each type.
func (s *stack) allDocs() []doc {
	var out []doc
	for _, typ := range docTypes {
		out = append(out, s.request(typ, nil))
	}
	return out
}

func santiago() *time.Location {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return time.UTC
	}
	return loc
}

// send registers the document's invoice in the fake Odoo (once: posting it
// again must not reset what Odoo knows) and hands the request to enqueue,
// signed like the addon signs it.
func (s *stack) send(d doc) local.Accepted { return s.sendBody(d, d.body) }

// sendBody is send with other bytes for the same document (the same
// request formatted differently).
func (s *stack) sendBody(d doc, body []byte) local.Accepted {
	s.t.Helper()
	if _, known := s.Odoo.Move(d.move); !known {
		s.Odoo.AddMove(d.move, d.key.String())
	}
	a, err := s.enqueue(body)
	if err != nil {
		s.t.Fatalf("enqueue %s: %v", d.key, err)
	}
	if a.DTEKey != d.key.String() || a.Status != "queued" || a.EventID == "" {
		s.t.Fatalf("enqueue %s answered %+v", d.key, a)
	}
	return a
}

// enqueue posts a body to enqueue; it returns the 202 answer.
func (s *stack) enqueue(body []byte) (local.Accepted, error) {
	status, answer, err := s.post(body)
	if err != nil {
		return local.Accepted{}, err
	}
	if status != http.StatusAccepted {
		return local.Accepted{}, fmt.Errorf("enqueue answered %d: %s", status, answer)
	}
	var a local.Accepted
	return a, json.Unmarshal(answer, &a)
}

// post posts a body to enqueue, signed like the addon signs it, and
// returns the answer whatever it is.
func (s *stack) post(body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.EnqueueURL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(webhook.Header, webhook.Sign([]byte(local.EnqueueSecret), time.Now(), body))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, answer, nil
}

// waitFor polls cond until it holds or timeout passes; then the test fails
// with what was awaited and cond's last explanation.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; %s", timeout, what, detail)
		}
		time.Sleep(pollEvery)
	}
}

// waitStatus waits until Odoo shows status for every document and, for a
// final status, the archive state says the same.
func (s *stack) waitStatus(status string, docs ...doc) {
	s.t.Helper()
	waitFor(s.t, settleTimeout, fmt.Sprintf("%d document(s) to reach %q", len(docs), status), func() (bool, string) {
		for _, d := range docs {
			m, _ := s.Odoo.Move(d.move)
			if m.Status != status {
				return false, fmt.Sprintf("%s (move %d) is %q in Odoo", d.key, d.move, m.Status)
			}
			if !archive.FinalStatus(status) {
				continue
			}
			st, err := s.state(d.key)
			if err != nil || st.Status != status {
				return false, fmt.Sprintf("%s is %q in the archive (%v)", d.key, st.Status, err)
			}
		}
		return true, ""
	})
}

// state reads a document's state from the archive.
func (s *stack) state(k dtekey.Key) (archive.State, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, _, err := s.Archive.LoadState(ctx, k)
	return st, err
}

// document reads an archived document.
func (s *stack) document(key string) []byte {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := s.Archive.GetDocument(ctx, key)
	if err != nil {
		s.t.Fatalf("read %s from the archive: %v", key, err)
	}
	return d.Body
}

// logBuffer keeps JSON log lines in memory for the test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// delivery is one line of the dispatcher's log: a message delivered to a
// function and what became of it.
type delivery struct {
	Queue     string    `json:"queue"`
	MessageID string    `json:"message_id"`
	DTEKey    string    `json:"dtekey"`
	Attempt   int       `json:"attempt"`
	Status    int       `json:"status"`
	Action    string    `json:"action"` // delivered, retry, dead-lettered, dropped
	Last      string    `json:"last"`
	Time      time.Time `json:"time"`
}

// deliveries lists the dispatcher's deliveries that match keep (nil: all).
func (s *stack) deliveries(keep func(delivery) bool) []delivery {
	var out []delivery
	sc := bufio.NewScanner(bytes.NewReader(s.log.bytes()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg string `json:"msg"`
			delivery
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "delivery" {
			continue
		}
		if keep == nil || keep(line.delivery) {
			out = append(out, line.delivery)
		}
	}
	return out
}
