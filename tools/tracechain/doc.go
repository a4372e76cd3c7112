// Package tracechain proves, in one process, that a document's trace is one
// trace from the Odoo click to the last callback: enqueue, sign, submit and
// notify wired the way their binaries wire them (shared/telemetry's
// observers and decorators, one tracer provider each), the real RabbitMQ
// and dispatcher between them, the SII simulator and the fake Odoo, and an
// in-memory span recorder. It has only tests.
package tracechain
