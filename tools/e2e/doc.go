// Package e2e holds the pipeline's end-to-end and fault tests (issue 5):
// the four function binaries, the dispatcher, the SII simulator and a fake
// Odoo that checks the callback contract, run by tools/local against the
// real RabbitMQ (a vhost per test) and the real S3 servers (an issuer RUT
// per test): versitygw, and MinIO for TestEndToEnd's second run and for
// TestS3DownAtStart (an SSE-KMS bucket that comes up after the functions).
//
// Every test ends with the same ledger: nothing lost (each document has a
// final status in Odoo and in the archive) and nothing sent twice (one
// upload and one TrackID per document at the SII, one event per status at
// Odoo, no contract violation, statuses never backwards).
//
// The tests skip when RabbitMQ, an S3 server, xmllint or xmlsec1 are
// missing, and fail instead under CI=true. TestBrokerRestart stops and
// starts RabbitMQ, so it only runs with DTE_TEST_BROKER_RESTART=1 (the
// Makefile runs it on its own, after everything else). The long fault runs
// (faults_test.go) run only with DTE_TEST_FAULTS=1: make test-faults.
package e2e
