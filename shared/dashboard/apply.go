package dashboard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
)

// Batch is what one transaction applies: facts, and the messages that
// could not be read (counted and shown, never silently dropped).
type Batch struct {
	Facts      []Fact
	Unreadable []string // why each unreadable message could not be read
}

// Applied says what a batch changed.
type Applied struct {
	New        int // facts not seen before
	Duplicates int // facts already in the projection (redeliveries)
}

// Timestamps of a document, by the status that sets them.
const (
	tsRequested = iota
	tsSigned
	tsSubmitted
	tsSettled
	tsFailed
	nTS
)

var tsColumn = [nTS]string{"requested_at", "signed_at", "submitted_at", "settled_at", "failed_at"}

func tsOf(status string) int {
	switch status {
	case archive.StatusQueued:
		return tsRequested
	case archive.StatusSigned:
		return tsSigned
	case archive.StatusSent:
		return tsSubmitted
	case archive.StatusAccepted, archive.StatusObjected, archive.StatusRejected:
		return tsSettled
	case archive.StatusError:
		return tsFailed
	}
	return -1
}

// Stages whose duration the page shows, from one timestamp to another.
var stages = []struct {
	Name     string
	From, To int
}{
	{"sign", tsRequested, tsSigned},
	{"submit", tsSigned, tsSubmitted},
	{"sii", tsSubmitted, tsSettled},
	{"total", tsRequested, tsSettled},
}

// slotMS is a latency slot: 10 minutes.
const slotMS = int64(10 * time.Minute / time.Millisecond)

// Latency buckets are logarithmic, four per doubling from 1 ms (each about
// 19 % wide): bucket b holds durations in [2^(b/4), 2^((b+1)/4)) ms.
const maxBucket = 4 * 32

func bucketOf(d time.Duration) int {
	msf := float64(d) / float64(time.Millisecond)
	if msf < 1 {
		return 0
	}
	return min(int(math.Floor(4*math.Log2(msf))), maxBucket)
}

// bucketValue is a bucket's representative duration: its geometric middle.
func bucketValue(b int) time.Duration {
	return time.Duration(math.Exp2((float64(b)+0.5)/4) * float64(time.Millisecond))
}

type docRow struct {
	id                   int64
	stored               bool // the row exists in the database
	key                  string
	issuer               int64
	docType              int
	folio                int64
	status               string
	statusAt             int64
	ts                   [nTS]sql.NullInt64
	receiver             string
	total                sql.NullInt64
	trackID, siiState    string
	detail               string
	archiveKey, envioKey string
	checks               int
	updatedAt            int64
	// facts are the ids of the facts the document has, so that a repeat
	// is known without asking the database.
	facts   map[string]bool
	changed bool // in this batch
}

const docColumns = `id, status, status_at, requested_at, signed_at, submitted_at, settled_at, failed_at,
  receiver, total, track_id, sii_state, detail, archive_key, envio_key, checks, updated_at`

func scanDoc(sc interface{ Scan(...any) error }, d *docRow) error {
	return sc.Scan(&d.id, &d.status, &d.statusAt, &d.ts[0], &d.ts[1], &d.ts[2], &d.ts[3], &d.ts[4],
		&d.receiver, &d.total, &d.trackID, &d.siiState, &d.detail, &d.archiveKey, &d.envioKey, &d.checks, &d.updatedAt)
}

// docCache keeps the documents written lately, so that the next events of
// a document in flight need no read: two generations, the older dropped
// when the newer fills. It holds committed rows only (Apply drops what a
// failed transaction touched).
type docCache struct {
	cur, old map[string]docRow
	size     int
}

func newDocCache(size int) *docCache {
	return &docCache{cur: map[string]docRow{}, old: map[string]docRow{}, size: size}
}

func (c *docCache) get(key string) (docRow, bool) {
	if d, ok := c.cur[key]; ok {
		return d, true
	}
	d, ok := c.old[key]
	return d, ok
}

func (c *docCache) put(d docRow) {
	if len(c.cur) >= c.size {
		c.old, c.cur = c.cur, make(map[string]docRow, c.size)
	}
	d.changed = false
	c.cur[d.key] = d
	delete(c.old, d.key)
}

// deltas are the counters a batch changes, written once at its end.
type deltas struct {
	status  map[string]int
	hourly  map[[2]any]int // hour, status
	latency map[[3]any]int // slot, stage, bucket
	sii     map[int64][2]int
	meta    map[string]string
}

func newDeltas() *deltas {
	return &deltas{status: map[string]int{}, hourly: map[[2]any]int{}, latency: map[[3]any]int{}, sii: map[int64][2]int{}, meta: map[string]string{}}
}

type applyTx struct {
	ctx                       context.Context
	tx                        *sql.Tx
	stmts                     map[string]*sql.Stmt
	cache                     *docCache
	selDoc, selFacts, insDead *sql.Stmt
	docs                      map[string]*docRow // the batch's documents, written once at its end
	order                     []*docRow          // those that changed, in order
	history                   []any              // rows to insert: doc, fact_id, at, kind, status, detail
	nextID                    int64
	d                         *deltas
	metaNow                   map[string]string // meta values read in this batch
}

// Apply stores a batch in one transaction. It is idempotent: a fact seen
// before (same ID for the same document) changes nothing, so redeliveries
// and a rebuild that overlaps the queue are harmless; and it is
// order-independent for the status (see decide). Each document is read
// once (or found in the cache) and written once per batch.
func (s *Store) Apply(ctx context.Context, b Batch) (Applied, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res Applied
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	a := &applyTx{ctx: ctx, tx: tx, stmts: s.stmts, cache: s.cache, docs: map[string]*docRow{}, d: newDeltas(), metaNow: map[string]string{}}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM documents`).Scan(&a.nextID); err != nil {
		return res, fmt.Errorf("next id: %w", err)
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&a.selDoc, `SELECT ` + docColumns + ` FROM documents WHERE dtekey = ?`},
		{&a.selFacts, `SELECT fact_id FROM history WHERE doc = ?`},
		{&a.insDead, `INSERT INTO dead_letters (fact_id, message_id, dtekey, queue, reason, at, state) VALUES (?, ?, ?, ?, ?, ?, 'parked') ON CONFLICT (fact_id) DO NOTHING`},
	} {
		if *p.st, err = tx.PrepareContext(ctx, p.sql); err != nil {
			return res, fmt.Errorf("prepare: %w", err)
		}
	}
	var lastReceived time.Time
	for _, f := range b.Facts {
		isNew, err := a.apply(f)
		if err != nil {
			return res, fmt.Errorf("apply %s (%s): %w", f.ID, f.Key, err)
		}
		if isNew {
			res.New++
		} else {
			res.Duplicates++
		}
		if f.Received.After(lastReceived) {
			lastReceived = f.Received
		}
	}
	if err := a.writeHistory(); err != nil {
		return res, err
	}
	if err := a.writeDocs(); err != nil {
		return res, err
	}
	if err := a.flush(len(b.Facts), b.Unreadable, lastReceived); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("commit: %w", err)
	}
	for _, d := range a.docs {
		if d.changed {
			d.stored = true
			s.cache.put(*d)
		}
	}
	if s.onCommit != nil && (res.New > 0 || len(b.Unreadable) > 0) {
		s.onCommit()
	}
	return res, nil
}

// doc finds a document: in the batch, in the cache, in the database, or
// new (with the next id; written at the end of the batch).
func (a *applyTx) doc(f Fact) (*docRow, error) {
	key := f.Key.String()
	if d, ok := a.docs[key]; ok {
		return d, nil
	}
	d, ok := a.cache.get(key)
	if ok {
		d.facts = maps.Clone(d.facts) // the cache keeps the committed set
	} else {
		err := scanDoc(a.selDoc.QueryRowContext(a.ctx, key), &d)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			d = docRow{id: a.nextID}
			a.nextID++
		case err != nil:
			return nil, err
		default:
			d.stored = true
		}
		d.facts = map[string]bool{}
		if d.stored {
			if err := a.loadFacts(&d); err != nil {
				return nil, err
			}
		}
	}
	d.key, d.issuer, d.docType, d.folio = key, f.Key.Issuer.Number, f.Key.Type, f.Key.Folio
	p := &d
	a.docs[key] = p
	return p, nil
}

func (a *applyTx) apply(f Fact) (bool, error) {
	d, err := a.doc(f)
	if err != nil {
		return false, err
	}
	if d.facts[f.ID] {
		return false, nil // seen before
	}
	d.facts[f.ID] = true
	at := ms(f.At)
	a.history = append(a.history, d.id, f.ID, at, f.Kind, f.Status, histDetail(f))
	if !d.changed {
		d.changed = true
		a.order = append(a.order, d)
	}
	// Timestamps: the first time a status is reached counts for the hour
	// and closes the stages that end there.
	if i := tsOf(f.Status); i >= 0 && !d.ts[i].Valid {
		d.ts[i] = sql.NullInt64{Int64: at, Valid: true}
		hour := at / int64(time.Hour/time.Millisecond)
		a.d.hourly[[2]any{hour, f.Status}]++
		for _, st := range stages {
			if st.From != i && st.To != i {
				continue
			}
			from, to := d.ts[st.From], d.ts[st.To]
			if from.Valid && to.Valid && to.Int64 >= from.Int64 {
				a.d.latency[[3]any{to.Int64 / slotMS, st.Name, bucketOf(time.Duration(to.Int64-from.Int64) * time.Millisecond)}]++
			}
		}
	}
	statusChanged := false
	if f.Status != "" {
		if next, ok := decide(d.status, d.statusAt, f.Status, at); ok {
			if d.status != "" {
				a.d.status[d.status]--
			}
			a.d.status[next]++
			d.status, d.statusAt, statusChanged = next, at, true
		}
	}
	if f.Receiver != "" {
		d.receiver = f.Receiver
	}
	if f.Total != 0 {
		d.total = sql.NullInt64{Int64: f.Total, Valid: true}
	}
	if f.TrackID != "" {
		d.trackID = f.TrackID
	}
	if f.SIIState != "" {
		d.siiState = f.SIIState
	}
	if f.ArchiveKey != "" {
		d.archiveKey = f.ArchiveKey
	}
	if f.EnvioKey != "" {
		d.envioKey = f.EnvioKey
	}
	if statusChanged {
		d.detail = histDetail(f)
	}
	d.checks = max(d.checks, f.Attempt)
	d.updatedAt = max(d.updatedAt, at)
	if f.Kind == KindDead {
		if _, err := a.insDead.ExecContext(a.ctx, f.ID, f.MessageID, d.key, f.Stage, f.Detail, at); err != nil {
			return false, err
		}
	}
	a.sii(f)
	return true, nil
}

func (a *applyTx) loadFacts(d *docRow) error {
	rows, err := a.selFacts.QueryContext(a.ctx, d.id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		d.facts[id] = true
	}
	return rows.Err()
}

// insertChunk is how many rows one multi-row INSERT writes: one statement
// per chunk instead of one per row is most of what batching saves.
const insertChunk = 50

// writeHistory inserts the batch's new facts.
func (a *applyTx) writeHistory() error {
	const cols = historyCols
	for len(a.history) > 0 {
		n := min(len(a.history)/cols, insertChunk)
		st, err := a.stmt("history", n)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(a.ctx, a.history[:n*cols]...); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		a.history = a.history[n*cols:]
	}
	return nil
}

// stmt is the multi-row statement of a table for rows rows, prepared at
// Open (parsing SQL is a good part of SQLite's cost per statement), used
// in this transaction.
func (a *applyTx) stmt(table string, rows int) (*sql.Stmt, error) {
	st, ok := a.stmts[table+"/"+strconv.Itoa(rows)]
	if !ok {
		return nil, fmt.Errorf("no statement for %d rows of %s", rows, table)
	}
	return a.tx.StmtContext(a.ctx, st), nil
}

// multiRowSQL are the statements stmt uses, by table, for n rows.
var multiRowSQL = map[string]func(n int) string{
	"history": func(n int) string {
		return `INSERT INTO history (doc, fact_id, at, kind, status, detail) VALUES ` + placeholders(n, historyCols)
	},
	"documents": func(n int) string {
		return `INSERT INTO documents (id, dtekey, issuer, doc_type, folio, status, status_at, requested_at, signed_at, submitted_at, settled_at, failed_at,
		  receiver, total, track_id, sii_state, detail, archive_key, envio_key, checks, updated_at) VALUES ` + placeholders(n, documentCols) + `
		  ON CONFLICT (id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at, requested_at = excluded.requested_at,
		  signed_at = excluded.signed_at, submitted_at = excluded.submitted_at, settled_at = excluded.settled_at, failed_at = excluded.failed_at,
		  receiver = excluded.receiver, total = excluded.total, track_id = excluded.track_id, sii_state = excluded.sii_state, detail = excluded.detail,
		  archive_key = excluded.archive_key, envio_key = excluded.envio_key, checks = excluded.checks, updated_at = excluded.updated_at`
	},
}

const historyCols, documentCols = 6, 21

// placeholders is "(?, ?), (?, ?)" for rows × cols.
func placeholders(rows, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(row+", ", rows-1) + row
}

// writeDocs writes each document the batch changed, once, as multi-row
// upserts.
func (a *applyTx) writeDocs() error {
	const cols = documentCols
	args := make([]any, 0, insertChunk*cols)
	for len(a.order) > 0 {
		n := min(len(a.order), insertChunk)
		args = args[:0]
		for _, d := range a.order[:n] {
			args = append(args, d.id, d.key, d.issuer, d.docType, d.folio, d.status, d.statusAt, d.ts[0], d.ts[1], d.ts[2], d.ts[3], d.ts[4],
				d.receiver, d.total, d.trackID, d.siiState, d.detail, d.archiveKey, d.envioKey, d.checks, d.updatedAt)
		}
		st, err := a.stmt("documents", n)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(a.ctx, args...); err != nil {
			return fmt.Errorf("documents: %w", err)
		}
		a.order = a.order[n:]
	}
	return nil
}

// histDetail is what the history shows for a fact.
func histDetail(f Fact) string {
	switch f.Kind {
	case KindSigned:
		return f.ArchiveKey
	case KindSubmitted:
		return joinNonEmpty(" · ", "TrackID "+f.TrackID, f.EnvioKey)
	case KindCheck:
		return "consulta " + strconv.Itoa(f.Attempt) + " (TrackID " + f.TrackID + ")"
	case KindFailed:
		return joinNonEmpty(": ", f.Stage, f.Detail)
	case KindDead:
		return joinNonEmpty(": ", f.Stage, f.Detail)
	}
	return f.Detail
}

// sii counts what a fact says about the SII: an upload or status query that
// was answered, or a failure of the stages that talk to it. Facts rebuilt
// from the archive are not counted (their failures are not there).
func (a *applyTx) sii(f Fact) {
	if f.Received.IsZero() {
		return
	}
	ok, failed := false, false
	switch f.Kind {
	case KindSubmitted, KindSettled:
		ok = true
	case KindCheck:
		// Attempt n>1 is scheduled after status query n-1 was answered.
		ok = f.Attempt > 1
		if wait := f.Received.Sub(f.At); wait > 0 && wait < time.Hour {
			a.setMetaMax("check_at", ms(f.At), map[string]string{
				"check_wait_ms": strconv.FormatInt(wait.Milliseconds(), 10),
				"check_attempt": strconv.Itoa(f.Attempt),
			})
		}
	case KindFailed:
		failed = f.Stage == "submit" || f.Stage == "check"
	case KindDead:
		failed = f.Stage == bus.QueueSubmit
	}
	if !ok && !failed {
		return
	}
	minute := ms(f.At) / int64(time.Minute/time.Millisecond)
	c := a.d.sii[minute]
	if ok {
		c[0]++
		a.setMetaMax("sii_last_ok", ms(f.At), nil)
	} else {
		c[1]++
		a.setMetaMax("sii_last_error_at", ms(f.At), map[string]string{"sii_last_error": histDetail(f)})
	}
	a.d.sii[minute] = c
}

// setMetaMax sets key to at (and the others with it) when at is newer than
// what the projection has.
func (a *applyTx) setMetaMax(key string, at int64, with map[string]string) {
	cur, ok := a.metaNow[key]
	if !ok {
		_ = a.tx.QueryRowContext(a.ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&cur)
	}
	if n, err := strconv.ParseInt(cur, 10, 64); err == nil && n >= at {
		a.metaNow[key] = cur
		return
	}
	v := strconv.FormatInt(at, 10)
	a.metaNow[key] = v
	a.d.meta[key] = v
	for k, x := range with {
		a.d.meta[k] = x
	}
}

func (a *applyTx) flush(facts int, unreadable []string, lastReceived time.Time) error {
	exec := func(q string, args ...any) error {
		_, err := a.tx.ExecContext(a.ctx, q, args...)
		return err
	}
	for st, n := range a.d.status {
		if n == 0 {
			continue
		}
		if err := exec(`INSERT INTO status_counts (status, n) VALUES (?, ?) ON CONFLICT (status) DO UPDATE SET n = n + excluded.n`, st, n); err != nil {
			return fmt.Errorf("status counts: %w", err)
		}
	}
	for k, n := range a.d.hourly {
		if err := exec(`INSERT INTO hourly (hour, status, n) VALUES (?, ?, ?) ON CONFLICT (hour, status) DO UPDATE SET n = n + excluded.n`, k[0], k[1], n); err != nil {
			return fmt.Errorf("hourly counts: %w", err)
		}
	}
	for k, n := range a.d.latency {
		if err := exec(`INSERT INTO latency (slot, stage, bucket, n) VALUES (?, ?, ?, ?) ON CONFLICT (slot, stage, bucket) DO UPDATE SET n = n + excluded.n`, k[0], k[1], k[2], n); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	for minute, c := range a.d.sii {
		if err := exec(`INSERT INTO sii_minute (minute, ok, err) VALUES (?, ?, ?) ON CONFLICT (minute) DO UPDATE SET ok = ok + excluded.ok, err = err + excluded.err`, minute, c[0], c[1]); err != nil {
			return fmt.Errorf("SII counts: %w", err)
		}
	}
	if len(unreadable) > 0 {
		if err := exec(`INSERT INTO meta (key, value) VALUES ('unreadable', ?) ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value`, len(unreadable)); err != nil {
			return err
		}
		a.d.meta["unreadable_last"] = unreadable[len(unreadable)-1]
	}
	if facts > 0 {
		if err := exec(`INSERT INTO meta (key, value) VALUES ('facts', ?) ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value`, facts); err != nil {
			return err
		}
	}
	if !lastReceived.IsZero() {
		a.d.meta["last_received"] = strconv.FormatInt(ms(lastReceived), 10)
	}
	for k, v := range a.d.meta {
		if err := setMeta(a.ctx, a.tx, k, v); err != nil {
			return fmt.Errorf("meta %s: %w", k, err)
		}
	}
	return nil
}
