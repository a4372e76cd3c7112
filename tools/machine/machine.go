// Package machine tells what goes with every figure a benchmark or a load
// run reports: how busy the machine was (the project's rule: no figure
// without the load at the time).
package machine

import (
	"os"
	"strings"
)

// LoadAverage is the machine's 1, 5 and 15 minute load averages as uptime
// prints them ("0.52, 0.61, 0.70"), or "unknown" where /proc/loadavg is
// not there.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}
