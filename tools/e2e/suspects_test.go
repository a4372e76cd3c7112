package e2e

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dtecl/pipeline/shared/dtekey"
)

// suspects are the documents a check failed on. When a test fails, every
// log line that names one of them is shown, from every process: the tails
// of the logs rarely hold what went wrong with one document among hundreds,
// and a failure seen once in CI must be explainable from its output.
type suspects struct {
	mu   sync.Mutex
	keys []dtekey.Key
}

func (s *suspects) add(k dtekey.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.keys, k) {
		s.keys = append(s.keys, k)
	}
}

func (s *suspects) list() []dtekey.Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys)
}

// docT is the test's T for checks about one document: a failure makes the
// document a suspect.
type docT struct {
	*testing.T
	key      dtekey.Key
	suspects *suspects
}

func (t docT) Errorf(format string, args ...any) {
	t.Helper()
	t.suspects.add(t.key)
	t.T.Errorf(format, args...)
}

// about is the test's T for checks about document k.
func (s *stack) about(k dtekey.Key) docT {
	return docT{T: s.t, key: k, suspects: s.suspects}
}

// maxLinesPerSuspect bounds what dumpSuspects prints of one document from
// one log (a document that looped would flood the output).
const maxLinesPerSuspect = 60

// dumpSuspects shows, for the first few suspects, every line of every log
// that names the document.
func (s *stack) dumpSuspects() {
	keys := s.suspects.list()
	if len(keys) > 3 {
		s.t.Logf("%d documents failed a check; the logs of the first 3 follow", len(keys))
		keys = keys[:3]
	}
	logs := s.processLogs()
	logs["dispatcher and simulator"] = s.log.bytes()
	for _, k := range keys {
		needle := []byte(`"` + k.String())
		for _, n := range slices.Sorted(maps.Keys(logs)) {
			var lines [][]byte
			for line := range bytes.Lines(logs[n]) {
				if bytes.Contains(line, needle) {
					lines = append(lines, bytes.TrimRight(line, "\n"))
				}
			}
			if len(lines) == 0 {
				continue
			}
			if len(lines) > maxLinesPerSuspect {
				lines = append(lines[:maxLinesPerSuspect/2], lines[len(lines)-maxLinesPerSuspect/2:]...)
			}
			s.t.Logf("--- %s: %s's lines\n%s", n, k, bytes.Join(lines, []byte("\n")))
		}
	}
}

// processLogs reads every log in the stack's work directory (the
// functions and their replicas, the dashboard, the dispatcher when it runs
// as a process), by process name.
func (s *stack) processLogs() map[string][]byte {
	out := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join(s.work, "logs", "*.log"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			out[strings.TrimSuffix(filepath.Base(f), ".log")] = b
		}
	}
	return out
}
