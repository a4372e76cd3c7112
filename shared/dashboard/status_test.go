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
