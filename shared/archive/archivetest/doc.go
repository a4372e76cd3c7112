// Package archivetest has test doubles for package archive: Mem, an
// in-memory Store with S3's conditional-write semantics and injectable
// failures, and NewFakeS3, a real S3 client against an in-process gofakes3
// server. Use Mem for handler unit tests and NewFakeS3 where the S3 wire
// behaviour itself matters.
package archivetest
