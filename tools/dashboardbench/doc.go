// Package dashboardbench measures the operations dashboard as it runs: the
// functions/dashboard binary, fed by its queue at the pipeline's peak rate
// from a publisher in the benchmark's own process, its CPU read from
// /proc. See BenchmarkDashboardFeed; `make bench-dashboard` runs it.
package dashboardbench
