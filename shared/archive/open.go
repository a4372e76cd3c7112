package archive

import (
	"context"
	"log/slog"
)

// Open connects a function to its archive: the S3 store, and, when probe is
// set, a check of what the server's conditional writes and ETags really do
// (see ProbeConditionalWrites), logged either way. A probe that cannot run
// (S3 unreachable for the moment) is not fatal: a function scaled from zero
// must start anyway. Nothing is assumed then: the archive probes again
// before its next write (WithProbe), and writes fail, transiently, until a
// probe succeeds. Reads never need the probe.
//
// Without probe the caller vouches for the conditional writes (S3_PROBE=
// false) and ETags are treated as opaque unless they are the body's MD5.
//
// wrap, when given, wraps the S3 store (metrics and traces of each call).
func Open(ctx context.Context, cfg S3Config, probe bool, log *slog.Logger, wrap ...func(Store) Store) (*Archive, error) {
	s3, err := NewS3(cfg)
	if err != nil {
		return nil, err
	}
	var store Store = s3
	for _, w := range wrap {
		store = w(store)
	}
	opts := []Option{WithLogger(log)}
	if probe {
		caps, err := ProbeConditionalWrites(ctx, store)
		if err != nil {
			log.Warn("archive: could not probe the S3 server's conditional writes at start; probing again before the first write",
				"endpoint", cfg.Endpoint, "bucket", cfg.Bucket, "error", err)
			opts = append(opts, WithProbe())
		} else {
			opts = append(opts, WithCapabilities(caps))
		}
	} else {
		log.Info("archive: no probe asked for: If-Match and If-None-Match are trusted without a probe; ETags are checked against the body's MD5 or the sha256 metadata",
			"endpoint", cfg.Endpoint, "bucket", cfg.Bucket)
	}
	return New(store, opts...), nil
}
