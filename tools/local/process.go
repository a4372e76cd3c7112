package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// process is one function binary the stack runs.
type process struct {
	name string
	bin  string
	env  []string
	args []string
	url  string // base URL, e.g. http://127.0.0.1:8081
	log  string // log file
	// aliveOnly: started once alive, ready or not (Config.StartUnready).
	aliveOnly bool
	// ready, when set, replaces the wait for /_/ready (a process that
	// serves no HTTP: the dispatcher).
	ready func(ctx context.Context, done <-chan struct{}) error

	mu        sync.Mutex
	cmd       *exec.Cmd
	done      chan struct{}
	logOffset int64
}

// start launches the binary and waits until it answers /_/ready (or only
// /_/health, when aliveOnly: sign and submit are not ready while their
// broker or archive is down).
func (p *process) start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s is already running", p.name)
	}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if fi, err := logf.Stat(); err == nil {
		p.logOffset = fi.Size()
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s (%s): %w", p.name, p.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	p.cmd, p.done = cmd, done
	if p.ready != nil {
		return p.ready(ctx, done)
	}
	return p.waitReady(ctx, done)
}

// waitLogLine waits until this run of the process has logged a line
// containing want (the log file is appended to by every run).
func (p *process) waitLogLine(ctx context.Context, done <-chan struct{}, want string) error {
	return p.waitFor(ctx, done, func() bool {
		b, err := os.ReadFile(p.log)
		return err == nil && int64(len(b)) >= p.logOffset && bytes.Contains(b[p.logOffset:], []byte(want))
	})
}

// waitReady waits until the process answers /_/ready with 200.
func (p *process) waitReady(ctx context.Context, done <-chan struct{}) error {
	path := "/_/ready"
	if p.aliveOnly {
		path = "/_/health"
	}
	return p.waitFor(ctx, done, func() bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitFor polls ready until it holds, the process exits, ctx ends or 30 s
// pass.
func (p *process) waitFor(ctx context.Context, done <-chan struct{}, ready func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		select {
		case <-done:
			return fmt.Errorf("%s exited at start; see %s", p.name, p.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after 30 s; see %s", p.name, p.log)
		}
	}
	return nil
}

// stop ends the process: SIGTERM (graceful: in-flight requests finish), or
// SIGKILL when kill is set (a crash, for fault tests).
func (p *process) stop(kill bool) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return errors.New(p.name + " did not stop in 30 s; killed")
	}
}

// binPath finds a function binary in dir.
func binPath(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("function binary %s not found (build it with `make build`): %w", p, err)
	}
	return p, nil
}
