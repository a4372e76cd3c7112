package dashboard

import "testing"

// TestDecide follows the addon's status machine (dtelib/transitions.py)
// case by case: the dashboard and Odoo must agree.
func TestDecide(t *testing.T) {
	tests := []struct {
		name        string
		cur         string
		curAt       int64
		in          string
		inAt        int64
		want        string
		wantApplied bool
	}{
		{"first event", "", 0, "queued", 1, "queued", true},
		{"forward", "queued", 1, "signed", 2, "signed", true},
		{"skips ahead", "queued", 1, "sent", 2, "sent", true},
		{"late signed after sent", "sent", 3, "signed", 2, "sent", false},
		{"queued twice", "queued", 1, "queued", 5, "queued", false},
		{"final never changes", "accepted", 5, "error", 9, "accepted", false},
		{"final never changes to another final", "rejected", 5, "accepted", 9, "rejected", false},
		{"error over in-flight", "sent", 3, "error", 2, "error", true},
		{"newer error", "error", 3, "error", 4, "error", true},
		{"older error ignored", "error", 3, "error", 2, "error", false},
		{"after error, newer event moves on", "error", 3, "sent", 4, "sent", true},
		{"after error, older event stale", "error", 3, "signed", 2, "error", false},
		{"after error, a verdict", "error", 3, "accepted", 9, "accepted", true},
		{"retrying first", "", 0, "retrying", 1, "retrying", true},
		{"retrying over in-flight", "signed", 2, "retrying", 3, "retrying", true},
		{"older retrying ignored", "sent", 3, "retrying", 2, "sent", false},
		{"after retrying, newer status moves on", "retrying", 3, "sent", 4, "sent", true},
		{"after retrying, older event stale", "retrying", 3, "signed", 2, "retrying", false},
		{"after retrying, a verdict even if older", "retrying", 3, "accepted", 2, "accepted", true},
		{"error over retrying", "retrying", 3, "error", 4, "error", true},
		{"retrying never over final", "accepted", 3, "retrying", 4, "accepted", false},
		{"retrying after a newer error", "error", 5, "retrying", 4, "error", false},
		{"retrying after an older error moves on", "error", 3, "retrying", 4, "retrying", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, applied := decide(tt.cur, tt.curAt, tt.in, tt.inAt)
			if got != tt.want || applied != tt.wantApplied {
				t.Errorf("decide(%q@%d, %q@%d) = %q, %v; want %q, %v", tt.cur, tt.curAt, tt.in, tt.inAt, got, applied, tt.want, tt.wantApplied)
			}
		})
	}
}
