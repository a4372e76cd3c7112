package archive

import (
	"context"
	"fmt"
)

// Ready reports whether the store answers, with one cheap request: a
// listing of a prefix that holds nothing (it needs the same permission as
// reading CAFs). A function that cannot reach its archive is not ready
// (serve's /_/ready), so the platform sends it no work.
func (a *Archive) Ready(ctx context.Context) error {
	if _, err := a.store.List(ctx, ProbePrefix+"ready/"); err != nil {
		return fmt.Errorf("archive unreachable: %w", err)
	}
	return nil
}
