package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/tools/local"
)

// TestVHostURLNamesTheVHost checks the helper every broker test relies on:
// the URL bustest.VHost returns must reach the vhost it created, whatever
// the test's name. A subtest name with a comma is enough to break it:
// VHost sets URL.Path to the already escaped name, so String() escapes the
// "%" again and the broker is asked for "...%2C..." (NOT_ALLOWED, vhost not
// found). (shared/bus/bustest/bustest.go VHost: set u.Path = "/" + name and
// let String() escape it, or set RawPath too.)
func TestVHostURLNamesTheVHost(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"plain", "comma, in the name"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			vhost := bustest.VHost(t)
			conn, _, err := dial(vhost)
			if err != nil {
				t.Fatalf("bustest.VHost gave %s: %v", vhost, err)
			}
			conn.Close()
		})
	}
}

// TestStackStartFailsCleanly starts a stack that cannot start (its vhost
// does not exist): local.Start must return the error. It panics instead:
// its deferred cleanup calls s.Stop() when err != nil, but `return nil,
// err` has set the named result s to nil by then (tools/local/stack.go
// Start), so every start failure after the archive step is a nil-pointer
// panic that hides the reason.
func TestStackStartFailsCleanly(t *testing.T) {
	t.Parallel()
	s3 := requireS3(t)
	u := mustParse(t, bustest.Require(t))
	u.Path = "/dte-e2e-no-such-vhost"
	issuer := randomIssuer()
	t.Cleanup(func() {
		if store, err := archive.NewS3(s3); err == nil {
			_ = clearIssuer(store, issuer) // the CAF local.Start stored
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("local.Start panicked instead of returning its error: %v", r)
		}
	}()
	st, err := local.Start(ctx, local.Config{
		BinDir: binDir, WorkDir: t.TempDir(), AMQPURL: u.String(), S3: s3,
		CAFs: []local.CAFRange{{Issuer: issuer.String(), Type: 33, From: 1, To: 10}},
	})
	if err == nil {
		st.Stop()
		t.Fatal("local.Start succeeded with a vhost that does not exist")
	}
	t.Logf("local.Start: %v", err)
}
