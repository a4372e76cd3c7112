// Package coldstart measures what a scale-from-zero costs a function: the
// time from exec of its binary to its first answered request (a CloudEvent
// for sign, submit and notify, Odoo's POST for enqueue), the time until
// /_/ready says it can work, and its resident memory at rest.
//
// A cold start is part of a request's latency on Knative and OpenFaaS, so
// the targets are under 100 ms to the first answer and under 30 MiB at
// rest. The figures come from the tests in this package: make coldstart.
package coldstart

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Build compiles a function as the images do (static, -trimpath,
// stripped; scripts/gobuild.sh, which honours CRYPTO=boringcrypto for the
// functions that sign) from the workspace at root into dir, and returns
// the binary.
func Build(ctx context.Context, root, fn, dir string) (string, error) {
	bin, err := filepath.Abs(filepath.Join(dir, fn))
	if err != nil {
		return "", err
	}
	if root, err = filepath.Abs(root); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "gobuild.sh"), fn, bin)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", fn, err, out)
	}
	return bin, nil
}

// Probe is the request that counts as the first answer: newRequest makes
// it (afresh for each try) against the function's base URL.
type Probe struct {
	Name       string // what it is, for the report
	WantStatus int    // the answer expected
	NewRequest func(ctx context.Context, base string) (*http.Request, error)
}

// Result is one cold start.
type Result struct {
	FirstAnswer time.Duration // exec → first answer to the probe
	Status      int           // that answer's status
	Ready       time.Duration // exec → first 200 on /_/ready
	RSSKiB      int64         // VmRSS at rest, after settling
	HWMKiB      int64         // VmHWM: the peak resident set until then
	Log         []byte        // what the function wrote to stdout and stderr
}

// Options configure Measure.
type Options struct {
	Env     []string      // the function's environment (PORT is added)
	Settle  time.Duration // wait after the first answer before reading RSS (default 1 s)
	Timeout time.Duration // give up when it does not answer (default 10 s)
	Poll    time.Duration // pause between connection attempts (default 200 µs)
}

// Measure starts bin on a free port, times its first answer to probe and
// its readiness, reads its memory at rest, and stops it with SIGTERM.
func Measure(ctx context.Context, bin string, probe Probe, o Options) (Result, error) {
	if o.Settle <= 0 {
		o.Settle = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 200 * time.Microsecond
	}
	var r Result
	port, err := freePort()
	if err != nil {
		return r, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	var log bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(append([]string(nil), o.Env...), "PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &log, &log
	client := &http.Client{Timeout: o.Timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	fail := func(err error) (Result, error) {
		r.Log = log.Bytes()
		return r, fmt.Errorf("%s: %w\n%s", filepath.Base(bin), err, log.Bytes())
	}
	answer := func(newReq func(context.Context, string) (*http.Request, error), ok func(int) bool) (time.Duration, int, error) {
		for {
			req, err := newReq(ctx, base)
			if err != nil {
				return 0, 0, err
			}
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if ok(resp.StatusCode) {
					return time.Since(start), resp.StatusCode, nil
				}
			}
			select {
			case err := <-exited:
				exited <- err
				return 0, 0, fmt.Errorf("exited before answering: %v", err)
			case <-ctx.Done():
				return 0, 0, ctx.Err()
			case <-time.After(o.Poll):
			}
			if time.Since(start) > o.Timeout {
				return 0, 0, fmt.Errorf("no answer to %s within %s (last error: %v)", req.URL.Path, o.Timeout, err)
			}
		}
	}
	if r.FirstAnswer, r.Status, err = answer(probe.NewRequest, func(int) bool { return true }); err != nil {
		return fail(err)
	}
	readyReq := func(ctx context.Context, base string) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, base+"/_/ready", nil)
	}
	if r.Ready, _, err = answer(readyReq, func(code int) bool { return code == http.StatusOK }); err != nil {
		return fail(err)
	}
	if rest := o.Settle - time.Since(start) + r.FirstAnswer; rest > 0 {
		time.Sleep(rest)
	}
	if r.RSSKiB, r.HWMKiB, err = memory(cmd.Process.Pid); err != nil {
		return fail(err)
	}
	r.Log = log.Bytes()
	if r.Status != probe.WantStatus {
		return r, fmt.Errorf("%s answered %s with %d, want %d\n%s", filepath.Base(bin), probe.Name, r.Status, probe.WantStatus, log.Bytes())
	}
	return r, nil
}

// freePort asks the kernel for a port that is free now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// memory reads VmRSS and VmHWM (KiB) of a process from /proc.
func memory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read memory: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		key, val, ok := strings.Cut(s.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, 0, fmt.Errorf("read memory: odd %s line %q", key, s.Text())
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("read memory: %w", err)
		}
		if key == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	if err := s.Err(); err != nil {
		return 0, 0, err
	}
	if rss == 0 {
		return 0, 0, errors.New("read memory: no VmRSS")
	}
	return rss, hwm, nil
}
