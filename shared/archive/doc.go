// Package archive is the pipeline's S3-compatible archive (docs/design.md,
// "Archive"): the signed DTEs, the signed EnvioDTEs, the CAF files and the
// per-document state that makes redelivered messages idempotent.
//
// Layout (keys are derived only from validated values, see keys.go):
//
//	dte/{rutEmisor}/{tipoDTE}/{folio}.xml           signed DTE, written only if absent
//	envio/{rutEmisor}/{yyyy}/{mm}/{envioID}.xml     signed EnvioDTE, written only if absent
//	state/{rutEmisor}/{tipoDTE}/{folio}.json        State: status, TrackID, SII answer, history
//	caf/{rutEmisor}/{tipoDTE}/{desde}-{hasta}.xml   CAF files, put there by `dte caf add`
//
// Two layers:
//   - Store is the small object-store surface (Get, Put with conditions,
//     List, Delete). S3 implements it with aws-sdk-go-v2 against any
//     S3-compatible server (path-style, explicit region); archivetest has an
//     in-memory fake and a gofakes3 helper for unit tests.
//   - Archive puts the pipeline's meaning on top: PutDTE (create only if
//     absent), LoadState/UpdateState (a compare-and-swap read-modify-write on
//     the ETag, retried on conflict), PutEnvio, PutCAF, CAFs.
//
// Conditional writes. UpdateState is only safe against lost updates when the
// server honours If-Match on PutObject, and PutDTE only when it honours
// If-None-Match: *. Tested here (store_test.go, state_test.go):
//   - gofakes3 v1.2.0 (s3mem) and versitygw v1.8.0 (posix) both answer
//     412 PreconditionFailed to a stale If-Match and to If-None-Match on an
//     existing key, atomically under concurrent writers. On a missing key
//     If-Match gets 404 from versitygw (as from AWS) but 412 from gofakes3.
//   - versitygw with --sidecar metadata publishes a PUT's new ETag before
//     its data, so a racing GET can pair the new ETag with the old body and
//     a compare-and-swap based on it loses an update. UpdateState therefore
//     reads through getConsistent, which re-reads until the ETag is shown
//     to belong to the body: the body's MD5 where ETags are MD5s, else the
//     sha256 metadata the archive writes with every object, else two reads
//     that agree. With that, no update is lost on either backend.
//   - MinIO (single drive) behaves like versitygw, on plain, versioned,
//     SSE-S3 and SSE-KMS buckets; under SSE-KMS (there and on AWS) ETags
//     are not MD5s, and a multipart upload's ETag ("…-N") never is.
//
// A server that silently ignores the conditions would turn both into blind
// overwrites; ProbeConditionalWrites detects that (and whether ETags are
// MD5s), New logs what it found, and WithCapabilities switches to the
// narrower fallbacks it describes. A probe that could not run proves
// nothing: with WithProbe the archive probes again before its next write
// and writes nothing until a probe succeeds. The probe cleans up after
// itself, every version of its object on a versioned bucket included.
//
// Errors. Every failure is wrapped with the operation and the key.
// Branch with errors.Is on ErrNotFound, ErrExists, ErrConflict and
// ErrConfig; errs.IsPermanent marks requests that can never succeed as sent
// (invalid key, oversize object, undecodable state). Anything else (S3
// unreachable, timeouts, 5xx, throttling) is transient.
package archive
