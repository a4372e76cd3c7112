package stage

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestStagesDoNotReachTheBroker: no package under shared/stage depends,
// even indirectly, on the AMQP client, on bus or on delivery. Stages
// return their events; publishing them is delivery's job.
func TestStagesDoNotReachTheBroker(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list -deps ./...: %v", err)
	}
	deps := strings.Fields(string(out))
	const module = "github.com/dtecl/pipeline/shared/"
	for _, must := range []string{module + "stage/enqueue", module + "stage/sign", module + "stage/submit", module + "stage/notify"} {
		if !slices.Contains(deps, must) {
			t.Fatalf("go list found no %s: the check would pass on nothing (%d packages)", must, len(deps))
		}
	}
	for _, d := range deps {
		switch {
		case strings.HasPrefix(d, "github.com/rabbitmq/amqp091-go"),
			d == module+"bus", d == module+"delivery", d == module+"dispatch":
			t.Errorf("a stage depends on %s", d)
		}
	}
}
