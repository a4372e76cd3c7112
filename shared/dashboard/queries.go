package dashboard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/rut"
)

// chile is the SII's clock, in which the page labels hours.
var chile = func() *time.Location {
	if loc, err := time.LoadLocation("America/Santiago"); err == nil {
		return loc
	}
	return time.UTC
}()

// Projection is what the page shows from the database.
type Projection struct {
	Counts       map[string]int64 `json:"counts"` // documents by status now
	Documents    int64            `json:"documents"`
	Hours        []HourRow        `json:"hours"`   // the last 24 hours, oldest first
	Latency      []LatencyRow     `json:"latency"` // per stage, last hour and last 24 hours
	SII          SIIHealth        `json:"sii"`
	DeadParked   int64            `json:"dead_parked"`
	DeadLetters  []DeadLetter     `json:"dead_letters"` // the newest parked, at most 50
	StuckSent    int64            `json:"stuck_sent"`   // in sent for longer than StuckAfter
	StuckAfter   string           `json:"stuck_after"`
	Facts        int64            `json:"facts"`
	Unreadable   int64            `json:"unreadable"`
	UnreadableAt string           `json:"unreadable_last,omitempty"`
	LastReceived *time.Time       `json:"last_received,omitempty"`
}

// HourRow is one hour: how many documents reached each status in it.
type HourRow struct {
	Hour   int64            `json:"hour"`  // Unix hour
	Label  string           `json:"label"` // "14:00", Chilean time
	Counts map[string]int64 `json:"counts"`
}

// LatencyRow is one stage's duration percentiles over a window.
type LatencyRow struct {
	Stage  string `json:"stage"`
	Window string `json:"window"` // "1h" or "24h"
	N      int64  `json:"n"`
	P50    int64  `json:"p50_ms"`
	P90    int64  `json:"p90_ms"`
	P99    int64  `json:"p99_ms"`
}

// SIIHealth is what the events say about the SII.
type SIIHealth struct {
	LastOK        *time.Time `json:"last_ok,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	LastErrorAt   *time.Time `json:"last_error_at,omitempty"`
	OK15m         int64      `json:"ok_15m"`
	Err15m        int64      `json:"errors_15m"`
	ErrorRate     float64    `json:"error_rate_15m"` // 0..1 over the last 15 minutes
	CheckWaitMS   int64      `json:"check_wait_ms,omitempty"`
	CheckAttempt  int        `json:"check_attempt,omitempty"`
	CheckAt       *time.Time `json:"check_at,omitempty"`
	BackoffActive bool       `json:"backoff_active"` // a status check waited within the last 30 minutes
}

// DeadLetter is a dead letter as the projection knows it.
type DeadLetter struct {
	ID        int64     `json:"id"`
	MessageID string    `json:"message_id"`
	DTEKey    string    `json:"dtekey"`
	Queue     string    `json:"queue"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
	State     string    `json:"state"`
}

// DocSummary is one search result.
type DocSummary struct {
	DTEKey    string    `json:"dtekey"`
	Type      int       `json:"type"`
	Folio     int64     `json:"folio"`
	Receiver  string    `json:"receiver"`
	Total     *int64    `json:"total,omitempty"`
	Status    string    `json:"status"`
	StatusAt  time.Time `json:"status_at"`
	TrackID   string    `json:"track_id,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DocDetail is one document and its history.
type DocDetail struct {
	DocSummary
	SIIState   string         `json:"sii_state,omitempty"`
	Detail     string         `json:"detail,omitempty"`
	ArchiveKey string         `json:"archive_key,omitempty"`
	EnvioKey   string         `json:"envio_key,omitempty"`
	Checks     int            `json:"checks"`
	History    []HistoryEntry `json:"history"`
}

// HistoryEntry is one fact of a document's history.
type HistoryEntry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Status string    `json:"status,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

const hourMS = int64(time.Hour / time.Millisecond)

// Project reads what the page shows, as of now.
func (s *Store) Project(ctx context.Context, now time.Time, stuckAfter time.Duration) (Projection, error) {
	p := Projection{Counts: map[string]int64{}, StuckAfter: stuckAfter.String()}
	q := queryer{ctx: ctx, db: s.r}
	q.rows(`SELECT status, n FROM status_counts`, func(sc scanner) error {
		var st string
		var n int64
		if err := sc.Scan(&st, &n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		p.Counts[st] = n
		p.Documents += n
		return nil
	})
	nowHour := ms(now) / hourMS
	hours := map[int64]*HourRow{}
	for h := nowHour - 23; h <= nowHour; h++ {
		row := HourRow{Hour: h, Label: time.UnixMilli(h * hourMS).In(chile).Format("15:04"), Counts: map[string]int64{}}
		p.Hours = append(p.Hours, row)
	}
	for i := range p.Hours {
		hours[p.Hours[i].Hour] = &p.Hours[i]
	}
	q.rows(`SELECT hour, status, n FROM hourly WHERE hour >= ?`, func(sc scanner) error {
		var h, n int64
		var st string
		if err := sc.Scan(&h, &st, &n); err != nil {
			return err
		}
		if r := hours[h]; r != nil {
			r.Counts[st] += n
		}
		return nil
	}, nowHour-23)
	nowSlot := ms(now) / slotMS
	for _, w := range []struct {
		name  string
		slots int64
	}{{"1h", 6}, {"24h", 144}} {
		hist := map[string]map[int]int64{}
		q.rows(`SELECT stage, bucket, sum(n) FROM latency WHERE slot > ? GROUP BY stage, bucket`, func(sc scanner) error {
			var st string
			var b int
			var n int64
			if err := sc.Scan(&st, &b, &n); err != nil {
				return err
			}
			if hist[st] == nil {
				hist[st] = map[int]int64{}
			}
			hist[st][b] = n
			return nil
		}, nowSlot-w.slots)
		for _, st := range stages {
			row := LatencyRow{Stage: st.Name, Window: w.name}
			row.N, row.P50, row.P90, row.P99 = percentiles(hist[st.Name])
			p.Latency = append(p.Latency, row)
		}
	}
	p.SII = s.siiHealth(&q, now)
	q.one(`SELECT count(*) FROM dead_letters WHERE state = 'parked'`, &p.DeadParked)
	q.rows(`SELECT id, message_id, dtekey, queue, reason, at, state FROM dead_letters WHERE state = 'parked' ORDER BY at DESC, id DESC LIMIT 50`, func(sc scanner) error {
		var d DeadLetter
		var at int64
		if err := sc.Scan(&d.ID, &d.MessageID, &d.DTEKey, &d.Queue, &d.Reason, &at, &d.State); err != nil {
			return err
		}
		d.At = fromMS(at)
		p.DeadLetters = append(p.DeadLetters, d)
		return nil
	})
	q.one(`SELECT count(*) FROM documents WHERE status = 'sent' AND status_at < ?`, &p.StuckSent, ms(now.Add(-stuckAfter)))
	var facts, unreadable, last string
	q.one(`SELECT coalesce((SELECT value FROM meta WHERE key = 'facts'), '0')`, &facts)
	q.one(`SELECT coalesce((SELECT value FROM meta WHERE key = 'unreadable'), '0')`, &unreadable)
	q.one(`SELECT coalesce((SELECT value FROM meta WHERE key = 'unreadable_last'), '')`, &p.UnreadableAt)
	q.one(`SELECT coalesce((SELECT value FROM meta WHERE key = 'last_received'), '')`, &last)
	p.Facts, _ = strconv.ParseInt(facts, 10, 64)
	p.Unreadable, _ = strconv.ParseInt(unreadable, 10, 64)
	p.LastReceived = metaTime(last)
	if q.err != nil {
		return Projection{}, fmt.Errorf("read the projection: %w", q.err)
	}
	return p, nil
}

func (s *Store) siiHealth(q *queryer, now time.Time) SIIHealth {
	var h SIIHealth
	meta := map[string]string{}
	q.rows(`SELECT key, value FROM meta WHERE key IN ('sii_last_ok', 'sii_last_error', 'sii_last_error_at', 'check_wait_ms', 'check_attempt', 'check_at')`, func(sc scanner) error {
		var k, v string
		if err := sc.Scan(&k, &v); err != nil {
			return err
		}
		meta[k] = v
		return nil
	})
	h.LastOK = metaTime(meta["sii_last_ok"])
	h.LastErrorAt = metaTime(meta["sii_last_error_at"])
	h.LastError = meta["sii_last_error"]
	h.CheckWaitMS, _ = strconv.ParseInt(meta["check_wait_ms"], 10, 64)
	h.CheckAttempt, _ = strconv.Atoi(meta["check_attempt"])
	h.CheckAt = metaTime(meta["check_at"])
	h.BackoffActive = h.CheckAt != nil && now.Sub(*h.CheckAt) < 30*time.Minute
	since := ms(now.Add(-15*time.Minute)) / int64(time.Minute/time.Millisecond)
	q.one(`SELECT coalesce(sum(ok), 0), coalesce(sum(err), 0) FROM sii_minute WHERE minute >= ?`, []any{&h.OK15m, &h.Err15m}, since)
	if total := h.OK15m + h.Err15m; total > 0 {
		h.ErrorRate = float64(h.Err15m) / float64(total)
	}
	return h
}

func metaTime(v string) *time.Time {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 {
		return nil
	}
	t := fromMS(n)
	return &t
}

// percentiles reads p50, p90 and p99 (milliseconds) from a histogram of
// latency buckets.
func percentiles(hist map[int]int64) (n, p50, p90, p99 int64) {
	buckets := make([]int, 0, len(hist))
	for b, c := range hist {
		buckets = append(buckets, b)
		n += c
	}
	if n == 0 {
		return 0, 0, 0, 0
	}
	sort.Ints(buckets)
	at := func(q float64) int64 {
		rank := int64(q*float64(n-1)) + 1 // the rank-th smallest, 1-based
		var seen int64
		for _, b := range buckets {
			seen += hist[b]
			if seen >= rank {
				return bucketValue(b).Milliseconds()
			}
		}
		return bucketValue(buckets[len(buckets)-1]).Milliseconds()
	}
	return n, at(0.50), at(0.90), at(0.99)
}

// ErrBadQuery is a search the dashboard cannot read.
var ErrBadQuery = errors.New("búsqueda: escriba un dtekey (76086428-5-33-1042), un folio (1042) o un RUT (76086428-5)")

// SearchLimit bounds a search's results.
const SearchLimit = 50

// Search finds documents by dtekey, folio or RUT (issuer or receiver), the
// newest first (in the order the dashboard first saw them).
func (s *Store) Search(ctx context.Context, text string) ([]DocSummary, error) {
	text = strings.TrimSpace(text)
	const cols = `dtekey, doc_type, folio, receiver, total, status, status_at, track_id, updated_at`
	var query string
	var args []any
	if k, err := dtekey.Parse(text); err == nil {
		query, args = `SELECT `+cols+` FROM documents WHERE dtekey = ?`, []any{k.String()}
	} else if folio, err := strconv.ParseInt(text, 10, 64); err == nil && folio > 0 {
		query, args = `SELECT `+cols+` FROM documents WHERE folio = ? ORDER BY id DESC LIMIT ?`, []any{folio, SearchLimit}
	} else if r, err := rut.Parse(strings.ReplaceAll(text, ".", "")); err == nil {
		// The newest first: ids grow with time, and an index on one column
		// holds the rowid after it.
		query = `SELECT ` + cols + ` FROM (
		  SELECT * FROM (SELECT * FROM documents WHERE issuer = ? ORDER BY id DESC LIMIT ?)
		  UNION SELECT * FROM (SELECT * FROM documents WHERE receiver = ? ORDER BY id DESC LIMIT ?))
		  ORDER BY id DESC LIMIT ?`
		args = []any{r.Number, SearchLimit, r.String(), SearchLimit, SearchLimit}
	} else {
		return nil, ErrBadQuery
	}
	var out []DocSummary
	q := queryer{ctx: ctx, db: s.r}
	q.rows(query, func(sc scanner) error {
		d, err := scanSummary(sc)
		out = append(out, d)
		return err
	}, args...)
	return out, q.err
}

func scanSummary(sc scanner, extra ...any) (DocSummary, error) {
	var d DocSummary
	var total sql.NullInt64
	var statusAt, updated int64
	dest := append([]any{&d.DTEKey, &d.Type, &d.Folio, &d.Receiver, &total, &d.Status, &statusAt, &d.TrackID, &updated}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return d, err
	}
	if total.Valid {
		d.Total = &total.Int64
	}
	d.StatusAt, d.UpdatedAt = fromMS(statusAt), fromMS(updated)
	return d, nil
}

// ErrNoDocument is a dtekey the projection has not seen.
var ErrNoDocument = errors.New("the dashboard has not seen this document")

// Document reads one document and its history.
func (s *Store) Document(ctx context.Context, k dtekey.Key) (DocDetail, error) {
	var d DocDetail
	var id int64
	row := s.r.QueryRowContext(ctx, `SELECT dtekey, doc_type, folio, receiver, total, status, status_at, track_id, updated_at,
	  sii_state, detail, archive_key, envio_key, checks, id FROM documents WHERE dtekey = ?`, k.String())
	sum, err := scanSummary(row, &d.SIIState, &d.Detail, &d.ArchiveKey, &d.EnvioKey, &d.Checks, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("%s: %w", k, ErrNoDocument)
	}
	if err != nil {
		return d, err
	}
	d.DocSummary = sum
	q := queryer{ctx: ctx, db: s.r}
	q.rows(`SELECT at, kind, status, detail FROM history WHERE doc = ? ORDER BY at, CASE kind WHEN 'requested' THEN 1 WHEN 'signed' THEN 2 WHEN 'submitted' THEN 3 WHEN 'check' THEN 4 ELSE 5 END`, func(sc scanner) error {
		var h HistoryEntry
		var at int64
		if err := sc.Scan(&at, &h.Kind, &h.Status, &h.Detail); err != nil {
			return err
		}
		h.At = fromMS(at)
		d.History = append(d.History, h)
		return nil
	}, id)
	return d, q.err
}

// FolioUse is the highest folio the projection has seen in a CAF's range
// (0 when none).
func (s *Store) FolioUse(ctx context.Context, issuer rut.RUT, docType int, from, to int64) (int64, error) {
	var hi sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT max(folio) FROM documents WHERE issuer = ? AND doc_type = ? AND folio BETWEEN ? AND ?`,
		issuer.Number, docType, from, to).Scan(&hi)
	return hi.Int64, err
}

// DeadLetterByID reads one dead letter of the projection.
func (s *Store) DeadLetterByID(ctx context.Context, id int64) (DeadLetter, error) {
	var d DeadLetter
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT id, message_id, dtekey, queue, reason, at, state FROM dead_letters WHERE id = ?`, id).
		Scan(&d.ID, &d.MessageID, &d.DTEKey, &d.Queue, &d.Reason, &at, &d.State)
	d.At = fromMS(at)
	return d, err
}

// ResolveDeadLetters records what a replay did: the replayed message ids
// are "replayed"; parked letters of the projection whose message id is no
// longer in the queue are "gone" (replayed or removed by someone else).
func (s *Store) ResolveDeadLetters(ctx context.Context, replayed []string, stillParked map[string]bool, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, id := range replayed {
		if _, err := tx.ExecContext(ctx, `UPDATE dead_letters SET state = 'replayed', resolved_at = ? WHERE message_id = ? AND state = 'parked'`, ms(now), id); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT message_id FROM dead_letters WHERE state = 'parked'`)
	if err != nil {
		return err
	}
	var gone []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if !stillParked[id] {
			gone = append(gone, id)
		}
	}
	rows.Close()
	for _, id := range gone {
		if _, err := tx.ExecContext(ctx, `UPDATE dead_letters SET state = 'gone', resolved_at = ? WHERE message_id = ? AND state = 'parked'`, ms(now), id); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if s.onCommit != nil {
		s.onCommit()
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// queryer runs reads and keeps the first error, so that a page's worth of
// queries reads straight.
type queryer struct {
	ctx context.Context
	db  *sql.DB
	err error
}

func (q *queryer) rows(query string, each func(scanner) error, args ...any) {
	if q.err != nil {
		return
	}
	rows, err := q.db.QueryContext(q.ctx, query, args...)
	if err != nil {
		q.err = err
		return
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			q.err = err
			return
		}
	}
	q.err = rows.Err()
}

// one scans a single row into dest (a pointer, or a []any of pointers).
func (q *queryer) one(query string, dest any, args ...any) {
	if q.err != nil {
		return
	}
	ptrs, ok := dest.([]any)
	if !ok {
		ptrs = []any{dest}
	}
	q.err = q.db.QueryRowContext(q.ctx, query, args...).Scan(ptrs...)
}
