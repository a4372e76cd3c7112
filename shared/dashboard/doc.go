// Package dashboard is the live operations dashboard (`dte dashboard`,
// functions/dashboard): a projection of the pipeline's events into an
// embedded SQLite database, fed by its own queue (bus.QueueDashboard) or by
// Knative Triggers, rebuilt from the archive's state objects when empty,
// and a web page that follows it over server-sent events.
//
// The projection answers what logs cannot: how many documents are in each
// status now and per hour, how long each stage takes, what died and why
// (with a replay button), how the SII is doing, how many folios each CAF
// has left, and the history of any one document.
//
// Files: facts.go (events and dead letters as facts), store.go (the
// database), apply.go (facts into the database), status.go (the status
// machine Odoo also follows), queries.go (what the page shows),
// rebuild.go (from the archive), feed.go (the queue consumer), broker.go
// (queue depths), cafs.go (folios left), server.go, auth.go, sse.go and
// page.html (the web side).
package dashboard
