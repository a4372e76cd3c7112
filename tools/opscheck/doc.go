// Package opscheck checks the ready-made operations files
// (deploy/observability: the Grafana dashboard and the Prometheus alert
// rules) against the code: every expression parses as PromQL, and every
// metric and label it names is one shared/telemetry registers. It has only
// tests.
package opscheck
