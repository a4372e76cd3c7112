// Package deploycheck keeps the deployment files in step with the code,
// without a cluster: kn/ (Knative Services, RabbitmqSources, the broker
// variant's Broker and Triggers, and the RabbitMQ topology as
// messaging-topology-operator objects), stack.yml and openfaas/ (the
// OpenFaaS stack and the dte connector).
//
// Its tests (make deploy-check, part of make test) compare them with the
// code itself:
//   - the topology with bus.Declaration(): every exchange, queue, argument
//     (int and string kept apart) and binding, nothing missing and nothing
//     extra;
//   - the sources, triggers, connector routes and `topic` annotations with
//     bus.WorkQueues() and events.Types;
//   - each function's environment with what its configuration declares
//     (shared/config, FunctionReads): every variable set or deliberately
//     defaulted, no variable that nothing reads, every mounted secret
//     declared; and that nothing else in the functions reads the
//     environment;
//   - the README's configuration table, generated from the same
//     declarations (ConfigTable);
//   - the operations files (deploy/observability: Grafana dashboards and
//     Prometheus rules) as Grafana and Prometheus read them, every query
//     parsed and checked against the metrics shared/telemetry registers;
//   - the image builds: the root Dockerfile's build stage replayed on the
//     context faas-cli would assemble and on the repository, each giving a
//     static binary without a go.work; each module tidy on its own; no test
//     helper linked into a production binary.
//
// kubeconform -strict with the offline schemas checks the same files'
// syntax (scripts/deploy-check.sh).
package deploycheck
