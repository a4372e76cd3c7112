package pipelinebench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dtecl/pipeline/tools/local"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/PID/stat (100 on every Linux this runs on).
const clockTicks = 100

// snapshot is what a run measures at its start and at its end: the CPU
// each process has used so far and the S3 calls each function made.
type snapshot struct {
	cpu map[string]time.Duration      // by process
	s3  map[string]map[string]float64 // by function, then "operation outcome"
}

// processes are the stack's processes by name (functions and replicas),
// with the servers the pipeline uses: RabbitMQ (its beam.smp, which serves
// every vhost, so other work on the broker shows there too) and the S3
// server (shared with other users of the machine in the same way).
func processes(b *testing.B, stack *local.Stack, s3Endpoint string) map[string]int {
	out := stack.PIDs()
	if pid, err := listenerPID(5672); err == nil {
		out["rabbitmq"] = pid
	} else {
		b.Logf("RabbitMQ's process not found (its CPU is not counted): %v", err)
	}
	if u, err := url.Parse(s3Endpoint); err == nil {
		if port, err := strconv.Atoi(u.Port()); err == nil {
			if pid, err := listenerPID(port); err == nil {
				out["s3 server"] = pid
			} else {
				b.Logf("the S3 server's process not found (its CPU is not counted): %v", err)
			}
		}
	}
	return out
}

// measure takes a snapshot: the CPU of each process from /proc, this
// process's own (the dispatcher, the SII simulator, the fake Odoo and the
// sender) from getrusage, and each function's S3 calls from its /metrics.
func measure(b *testing.B, stack *local.Stack, pids map[string]int) snapshot {
	s := snapshot{cpu: map[string]time.Duration{}, s3: map[string]map[string]float64{}}
	for name, pid := range pids {
		if d, err := procCPU(pid); err == nil {
			s.cpu[name] = d
		}
	}
	var self syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	s.cpu["bench (dispatcher, SII simulator, fake Odoo, sender)"] = time.Duration(self.Utime.Nano() + self.Stime.Nano())
	for name, u := range stack.MetricsURLs() {
		if _, ok := pids[name]; !ok {
			continue
		}
		m, err := scrape(u, "dte_s3_requests_total")
		if err != nil {
			b.Logf("metrics of %s: %v", name, err)
			continue
		}
		s.s3[name] = m
	}
	return s
}

// procCPU is a process's user and system CPU so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// fields are counted after its closing one.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// listenerPID finds the process listening on a TCP port of this machine:
// the socket's inode in /proc/net/tcp{,6}, then the process holding it.
func listenerPID(port int) (int, error) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// local_address is HEXIP:HEXPORT; st 0A is LISTEN.
			if len(fields) < 10 || fields[3] != "0A" {
				continue
			}
			if i := strings.LastIndexByte(fields[1], ':'); i >= 0 {
				if p, err := strconv.ParseInt(fields[1][i+1:], 16, 32); err == nil && int(p) == port {
					inodes[fields[9]] = true
				}
			}
		}
		fh.Close()
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("nothing listens on port %d", port)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		l, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(l, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] {
			pid, _ := strconv.Atoi(strings.Split(fd, "/")[2])
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process of ours holds the socket listening on port %d", port)
}

// scrape reads the samples of one counter from a /metrics page, keyed by
// their label values joined with spaces.
func scrape(u, metric string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric+"{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			continue
		}
		var vals []string
		for _, kv := range strings.Split(line[len(metric)+1:end], ",") {
			if _, val, ok := strings.Cut(kv, "="); ok {
				vals = append(vals, strings.Trim(val, `"`))
			}
		}
		out[strings.Join(vals, " ")] = v
	}
	return out, sc.Err()
}

// report logs the CPU per 1,000 documents of each process and the S3 calls
// per document of each function between two snapshots, and reports the
// totals as metrics.
func report(b *testing.B, before, after snapshot, docs int) {
	var names []string
	for name := range after.cpu {
		names = append(names, name)
	}
	sort.Strings(names)
	var lines []string
	var pipeline time.Duration
	for _, name := range names {
		d := after.cpu[name] - before.cpu[name]
		if name != "rabbitmq" && name != "s3 server" {
			pipeline += d
		}
		lines = append(lines, fmt.Sprintf("  %-55s %6.2f s", name, d.Seconds()*1000/float64(docs)))
	}
	b.Logf("CPU per 1,000 documents (utime+stime), by process:\n%s", strings.Join(lines, "\n"))
	names = names[:0]
	for name := range after.s3 {
		names = append(names, name)
	}
	sort.Strings(names)
	lines = lines[:0]
	var total float64
	for _, name := range names {
		var ops []string
		var sum float64
		for op, v := range after.s3[name] {
			if n := v - before.s3[name][op]; n > 0 {
				ops = append(ops, fmt.Sprintf("%s %.2f", op, n/float64(docs)))
				sum += n
			}
		}
		sort.Strings(ops)
		total += sum
		lines = append(lines, fmt.Sprintf("  %-10s %5.2f  (%s)", name, sum/float64(docs), strings.Join(ops, ", ")))
	}
	b.Logf("S3 calls per document, by function (operation outcome):\n%s\n  total      %5.2f", strings.Join(lines, "\n"), total/float64(docs))
	b.ReportMetric(total/float64(docs), "s3-ops/doc")
	b.ReportMetric(pipeline.Seconds()*1000/float64(docs), "cpu-s/1000docs")
}

// profiler records CPU profiles of the given processes with perf while the
// run lasts, when DTE_BENCH_PROFILE names a directory: perf.data files per
// process, read with `perf report -i DIR/sign.data --no-children`.
type profiler struct{ cmds []*exec.Cmd }

func startProfiles(b *testing.B, pids map[string]int, names ...string) *profiler {
	dir := os.Getenv("DTE_BENCH_PROFILE")
	p := &profiler{}
	if dir == "" {
		return p
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for _, name := range names {
		pid, ok := pids[name]
		if name == "self" {
			pid, ok = os.Getpid(), true
		}
		if !ok {
			continue
		}
		cmd := exec.Command("perf", "record", "-F", "499", "-g", "-o", filepath.Join(dir, name+".data"), "-p", strconv.Itoa(pid))
		if err := cmd.Start(); err != nil {
			b.Logf("perf for %s: %v", name, err)
			continue
		}
		p.cmds = append(p.cmds, cmd)
	}
	return p
}

func (p *profiler) stop() {
	for _, c := range p.cmds {
		_ = c.Process.Signal(os.Interrupt)
	}
	for _, c := range p.cmds {
		_ = c.Wait()
	}
}
