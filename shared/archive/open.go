package archive

import (
	"context"
	"log/slog"
)

// Open connects a function to its archive: the S3 store, and, when probe is
// set, a check of what the server's conditional writes really do (see
// ProbeConditionalWrites). A probe that cannot run (S3 unreachable for the
// moment) is not fatal: a function scaled from zero must start anyway; the
// archive then assumes the conditions work, which is true of AWS S3, MinIO
// and versitygw.
func Open(ctx context.Context, cfg S3Config, probe bool, log *slog.Logger) (*Archive, error) {
	store, err := NewS3(cfg)
	if err != nil {
		return nil, err
	}
	opts := []Option{WithLogger(log)}
	if probe {
		caps, err := ProbeConditionalWrites(ctx, store)
		if err != nil {
			log.Warn("could not probe the S3 server's conditional writes; assuming they work", "error", err)
		} else {
			opts = append(opts, WithCapabilities(caps))
		}
	}
	return New(store, opts...), nil
}
