package signerbench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/request"
)

// Result is what one worker run measured. Workers print it as one JSON
// line; the Python worker (sign_dte.py) prints the same fields.
type Result struct {
	Docs            int     `json:"docs"`               // DTEs built, stamped and signed
	CPUSeconds      float64 `json:"cpu_seconds"`        // the process's CPU time (user + system) for them
	WallSeconds     float64 `json:"wall_seconds"`       // and the wall time
	Bytes           int     `json:"bytes"`              // size of one signed DTE
	RSAPerCPUSecond float64 `json:"rsa_per_cpu_second"` // bare RSA-2048 PKCS#1 v1.5 SHA-1 signatures per CPU second
	Stack           string  `json:"stack"`              // what signed: Go version and crypto, or Python's libraries
	Boring          bool    `json:"boring,omitempty"`   // a Go worker runs on BoringCrypto
}

// PerCPUSecond is DTEs per second of CPU: what one core signs, whatever
// else the machine is doing.
func (r Result) PerCPUSecond() float64 {
	if r.CPUSeconds <= 0 {
		return 0
	}
	return float64(r.Docs) / r.CPUSeconds
}

// PerWallSecond is DTEs per second of wall time.
func (r Result) PerWallSecond() float64 {
	if r.WallSeconds <= 0 {
		return 0
	}
	return float64(r.Docs) / r.WallSeconds
}

// goSigner is the shared/dte signer set up from a fixture.
type goSigner struct {
	s    *dte.Signer
	req  *request.Request
	cafs []*caf.CAF
}

func newGoSigner(fixture, requestPath string, opts ...dte.Option) (*goSigner, error) {
	f := FixtureFiles(fixture)
	cert, err := certs.LoadFile(f.SignerCert, f.SignerKey, "")
	if err != nil {
		return nil, fmt.Errorf("signer certificate: %w", err)
	}
	keys, err := caf.LoadKeys(f.SIIKeysDir)
	if err != nil {
		return nil, fmt.Errorf("SII keys: %w", err)
	}
	b, err := os.ReadFile(f.CAF)
	if err != nil {
		return nil, err
	}
	c, err := caf.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.CAF, err)
	}
	body, err := os.ReadFile(requestPath)
	if err != nil {
		return nil, err
	}
	v, err := request.NewValidator()
	if err != nil {
		return nil, err
	}
	req, err := v.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", requestPath, err)
	}
	s, err := dte.NewSigner(cert, append([]dte.Option{dte.WithSIIKeys(keys)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &goSigner{s: s, req: req, cafs: []*caf.CAF{c}}, nil
}

// SignAt signs the fixture's request once at time at (TmstFirma and
// TSTED): the document the benchmark compares across signers.
func SignAt(ctx context.Context, fixture, requestPath string, at time.Time) ([]byte, error) {
	g, err := newGoSigner(fixture, requestPath, dte.WithClock(dte.ClockFunc(func() time.Time { return at })))
	if err != nil {
		return nil, err
	}
	sd, err := g.s.Sign(ctx, g.req, g.cafs)
	if err != nil {
		return nil, err
	}
	return sd.XML, nil
}

// Work builds, stamps and signs the fixture's request over and over for
// at least d (what `make bench-dte` times per operation), then times bare
// RSA signatures with the same key for a third of d (at most a second).
// Run it with GOMAXPROCS=1 to measure one core.
func Work(ctx context.Context, fixture, requestPath string, d time.Duration) (Result, error) {
	g, err := newGoSigner(fixture, requestPath)
	if err != nil {
		return Result{}, err
	}
	first, err := g.s.Sign(ctx, g.req, g.cafs)
	if err != nil {
		return Result{}, err
	}
	r := Result{Bytes: len(first.XML), Stack: runtime.Version() + " " + cryptoName(), Boring: boringEnabled()}
	cpu0, wall0 := cpuTime(), time.Now()
	for {
		if _, err := g.s.Sign(ctx, g.req, g.cafs); err != nil {
			return Result{}, err
		}
		r.Docs++
		if time.Since(wall0) >= d {
			break
		}
	}
	r.CPUSeconds, r.WallSeconds = (cpuTime() - cpu0).Seconds(), time.Since(wall0).Seconds()

	key := g.s.Certificate().Key
	h := sha1.Sum([]byte("reference"))
	n, cpu0, wall0 := 0, cpuTime(), time.Now()
	for time.Since(wall0) < min(d/3, time.Second) || n == 0 {
		if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, h[:]); err != nil {
			return Result{}, err
		}
		n++
	}
	if c := (cpuTime() - cpu0).Seconds(); c > 0 {
		r.RSAPerCPUSecond = float64(n) / c
	}
	return r, nil
}

// cpuTime is the CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Fixture are the files a worker reads, all under one directory.
type Fixture struct {
	SignerCert string // signer.pem
	SignerKey  string // signer-key.pem
	SIIKeysDir string // sii-keys/ (100.cer)
	CAF        string // caf/caf.xml, with its private key
}

// FixtureFiles names the files of the fixture in dir.
func FixtureFiles(dir string) Fixture {
	return Fixture{
		SignerCert: filepath.Join(dir, "signer.pem"),
		SignerKey:  filepath.Join(dir, "signer-key.pem"),
		SIIKeysDir: filepath.Join(dir, "sii-keys"),
		CAF:        filepath.Join(dir, "caf", "caf.xml"),
	}
}
