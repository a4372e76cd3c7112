package machine

import (
	"os"
	"regexp"
	"testing"
)

func TestLoadAverage(t *testing.T) {
	got := LoadAverage()
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		if got != "unknown" {
			t.Errorf("without /proc/loadavg: %q, want unknown", got)
		}
		return
	}
	if !regexp.MustCompile(`^\d+\.\d+, \d+\.\d+, \d+\.\d+$`).MatchString(got) {
		t.Errorf("LoadAverage() = %q, want three load averages", got)
	}
}
