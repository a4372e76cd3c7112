package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
)

func TestArchiveURL(t *testing.T) {
	arc := newArchiveCLI(t)
	seedState(t, arc.store, "76086428-5-33-1042") // sent: has an EnvioDTE key
	ctx := context.Background()
	for key, body := range map[string]string{
		"dte/76086428-5/33/1042.xml":            "<DTE/>",
		"envio/76086428-5/2025/03/SetDoc_1.xml": "<EnvioDTE/>",
		"pdf/76086428-5/33/1042.pdf":            "%PDF-1.4",
	} {
		if _, err := arc.store.Put(ctx, key, []byte(body), archive.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	k, _ := dtekey.Parse("76086428-5-33-7")
	if _, err := archive.New(arc.store).UpdateState(ctx, k, func(s *archive.State) error {
		s.Record(time.Now(), archive.StatusSigned, "", "ev")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in the link
		wantErr  string
	}{
		{"signed DTE", []string{"archive", "url", "76086428-5-33-1042"}, 0, "/dte-archive/dte/76086428-5/33/1042.xml?", "signed DTE of 76086428-5-33-1042"},
		{"expiry", []string{"archive", "url", "--expires", "15m", "76086428-5-33-1042"}, 0, "X-Amz-Expires=900", ""},
		{"envio", []string{"archive", "url", "--envio", "76086428-5-33-1042"}, 0, "/envio/76086428-5/2025/03/SetDoc_1.xml?", "EnvioDTE of"},
		{"state", []string{"archive", "url", "--state", "76086428-5-33-1042"}, 0, "/state/76086428-5/33/1042.json?", "state of"},
		{"printed DTE", []string{"archive", "url", "--pdf", "76086428-5-33-1042"}, 0, "/pdf/76086428-5/33/1042.pdf?", "printed DTE of"},
		{"no receiver EnvioDTE", []string{"archive", "url", "--receiver", "76086428-5-33-1042"}, 1, "", "no receiver's EnvioDTE at envio-receptor/76086428-5/33/1042.xml"},
		{"not signed yet", []string{"archive", "url", "76086428-5-33-99"}, 1, "", "no signed DTE at dte/76086428-5/33/99.xml"},
		{"not sent yet", []string{"archive", "url", "--envio", "76086428-5-33-7"}, 1, "", "not sent to the SII yet (status signed)"},
		{"unknown document", []string{"archive", "url", "--envio", "76086428-5-33-98"}, 1, "", "no state in the archive"},
		{"bad key", []string{"archive", "url", "76086428-6-33-1"}, 2, "", "check digit"},
		{"no key", []string{"archive", "url"}, 2, "", "want exactly one DTEKEY"},
		{"too long", []string{"archive", "url", "--expires", "200h", "76086428-5-33-1042"}, 2, "", "at most 168h"},
		{"both", []string{"archive", "url", "--envio", "--state", "76086428-5-33-1042"}, 2, "", "choose one"},
		{"pdf and receiver", []string{"archive", "url", "--pdf", "--receiver", "76086428-5-33-1042"}, 2, "", "choose one"},
		{"no subcommand", []string{"archive"}, 2, "", "want a subcommand: url"},
		{"unknown subcommand", []string{"archive", "ls"}, 2, "", `unknown subcommand "ls"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runArchiveCmd(t, arc.env, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
		})
	}
}
