package dashboard

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver: builds stay static (CGO off)
)

// schemaVersion changes when the schema does; a database of another
// version is rebuilt (it is a projection: the archive and the queue hold
// the facts).
const schemaVersion = "2"

// schema is the projection. Times are Unix milliseconds (UTC); hours and
// minutes are Unix hours and minutes; latency slots are Unix 10-minute
// slots (so that "the last hour" is the last six of them). Counters (status_counts, hourly,
// latency, sii_minute) are kept up to date by Apply, so the page never
// scans the documents.
const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY,
  dtekey TEXT NOT NULL UNIQUE,
  issuer INTEGER NOT NULL,        -- the issuer's RUT number
  doc_type INTEGER NOT NULL,
  folio INTEGER NOT NULL,
  receiver TEXT NOT NULL DEFAULT '',
  total INTEGER,
  status TEXT NOT NULL,
  status_at INTEGER NOT NULL,     -- when the current status happened
  track_id TEXT NOT NULL DEFAULT '',
  sii_state TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '', -- the SII's answer or the last error
  archive_key TEXT NOT NULL DEFAULT '',
  envio_key TEXT NOT NULL DEFAULT '',
  checks INTEGER NOT NULL DEFAULT 0,
  requested_at INTEGER, signed_at INTEGER, submitted_at INTEGER, settled_at INTEGER, failed_at INTEGER,
  updated_at INTEGER NOT NULL
);
-- Indexes on columns that change on every event are avoided: each event
-- would rewrite them. Searches list the newest documents first by id.
CREATE INDEX IF NOT EXISTS documents_folio ON documents (folio);
CREATE INDEX IF NOT EXISTS documents_caf ON documents (issuer, doc_type, folio);
CREATE INDEX IF NOT EXISTS documents_issuer ON documents (issuer); -- with the rowid: the newest first
CREATE INDEX IF NOT EXISTS documents_receiver ON documents (receiver);
CREATE INDEX IF NOT EXISTS documents_sent ON documents (status_at) WHERE status = 'sent';
-- One b-tree: a document's facts together, unique per document (a fact id
-- names its document: event ids start with the dtekey).
CREATE TABLE IF NOT EXISTS history (
  doc INTEGER NOT NULL,
  fact_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (doc, fact_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS status_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hourly (hour INTEGER NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (hour, status)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latency (slot INTEGER NOT NULL, stage TEXT NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (slot, stage, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sii_minute (minute INTEGER PRIMARY KEY, ok INTEGER NOT NULL, err INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY,
  fact_id TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL,
  dtekey TEXT NOT NULL,
  queue TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  state TEXT NOT NULL,            -- parked, replayed, gone
  resolved_at INTEGER
);
CREATE INDEX IF NOT EXISTS dead_letters_state ON dead_letters (state, at);
CREATE INDEX IF NOT EXISTS dead_letters_dtekey ON dead_letters (dtekey);
`

// Store is the projection's database. Writes go through one connection
// (SQLite has one writer); reads use a pool of read-only connections that
// WAL lets run beside the writer.
type Store struct {
	path string
	w    *sql.DB
	r    *sql.DB

	mu       sync.Mutex           // serialises Apply and the other writes
	cache    *docCache            // documents written lately (under mu)
	stmts    map[string]*sql.Stmt // prepared multi-row statements, read-only after Open
	onCommit func()               // told after every commit that changed something
}

// Open opens (creating it if needed) the database at path. A database of
// another schema version is emptied, to be rebuilt.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := func(extra string) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(OFF)")
		q.Add("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode() + extra
	}
	w, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: path, w: w, cache: newDocCache(50_000), stmts: map[string]*sql.Stmt{}}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	for table, text := range multiRowSQL {
		for n := 1; n <= insertChunk; n++ {
			st, err := w.PrepareContext(ctx, text(n))
			if err != nil {
				w.Close()
				return nil, fmt.Errorf("database %s: prepare: %w", path, err)
			}
			s.stmts[table+"/"+strconv.Itoa(n)] = st
		}
	}
	r, err := sql.Open("sqlite", dsn("&mode=ro"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s read-only: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s.r = r
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`); err != nil {
		return err
	}
	var v string
	err := s.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&v)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return err
	case v != schemaVersion:
		// A projection of another version: start again from the archive.
		rows, err := s.w.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
		if err != nil {
			return err
		}
		var tables []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			tables = append(tables, n)
		}
		rows.Close()
		for _, t := range tables {
			if _, err := s.w.ExecContext(ctx, `DROP TABLE "`+t+`"`); err != nil {
				return err
			}
		}
	}
	if _, err := s.w.ExecContext(ctx, schema); err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, schemaVersion)
	return err
}

// OnCommit registers f to be called after each write that changed the
// projection (the page's live updates).
func (s *Store) OnCommit(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onCommit = f
}

// Close closes the database.
func (s *Store) Close() error {
	err1 := s.r.Close()
	err2 := s.w.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// Empty reports whether the projection has no document yet.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM documents LIMIT 1)`).Scan(&n)
	return n == 0, err
}

// setMeta writes a meta value inside tx.
func setMeta(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// Meta reads a meta value ("" when unset).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
