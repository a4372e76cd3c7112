package dashboard

import (
	"runtime"
	"runtime/debug"
)

// Runtime defaults of the dashboard process (GOMAXPROCS and GOGC unless
// the environment sets them). Measured with `make bench-dashboard` at 100
// documents/s on 2 cores: one P instead of two took the dashboard from
// about 7.7 % to 5.1 % of a core, and GOGC=400 with it to 4.6 %. The
// dashboard is one writer fed by one consumer; more Ps only add thread
// hand-offs between the AMQP reader, its buffer and the feed, and the page's
// queries take milliseconds. Its Go heap is small (SQLite's memory is its
// own), so collecting less often costs little memory.
const (
	DefaultProcs     = 1
	DefaultGCPercent = 400
)

// TuneRuntime applies procs and gcPercent (values ≤ 0 leave the runtime's).
func TuneRuntime(procs, gcPercent int) {
	if procs > 0 {
		runtime.GOMAXPROCS(procs)
	}
	if gcPercent > 0 {
		debug.SetGCPercent(gcPercent)
	}
}
