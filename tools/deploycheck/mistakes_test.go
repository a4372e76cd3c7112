package deploycheck

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/events"
)

// edit changes one object of objs in place (the slice holds copies made by
// clone), failing the test when the object or the path is not there.
func edit(t *testing.T, objs []Object, kind, name, path string, value any) {
	t.Helper()
	for i := range objs {
		if objs[i].Kind == kind && objs[i].Name == name {
			if err := SetPath(objs[i].Raw, path, value); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no %s %s to break", kind, name)
}

// drop removes the objects of kind and name from objs.
func drop(objs []Object, kind, name string) []Object {
	var out []Object
	for _, o := range objs {
		if o.Kind != kind || o.Name != name {
			out = append(out, o)
		}
	}
	return out
}

func clone(objs []Object) []Object {
	out := make([]Object, len(objs))
	for i, o := range objs {
		out[i] = o.Clone()
	}
	return out
}

// envIndex finds the position of a variable in a Service's env list.
func envIndex(t *testing.T, objs []Object, service, name string) int {
	t.Helper()
	for _, o := range objs {
		if o.Kind != "Service" || o.Name != service {
			continue
		}
		var s knService
		if err := o.Decode(&s); err != nil {
			t.Fatal(err)
		}
		for i, e := range s.Spec.Template.Spec.Containers[0].Env {
			if e.Name == name {
				return i
			}
		}
	}
	t.Fatalf("Service %s sets no %s", service, name)
	return -1
}

// TestChecksCatchMistakes breaks the real deployment files one way at a
// time and expects the checks to say so: a check that cannot fail proves
// nothing.
func TestChecksCatchMistakes(t *testing.T) {
	const svc = "spec.template.spec.containers.0."
	tests := []struct {
		name  string
		check func(t *testing.T, f *fixture) []string
		want  string
	}{
		{
			name: "a queue name the code does not use",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.source.Objects, "Queue", "dte.sign", "spec.name", "dte.sing")
				return CheckTopology(f.source.Objects, bus.Declaration(), true)
			},
			want: "not in the code's topology (bus.Declaration): queue dte.sing",
		},
		{
			name: "an integer argument given as a string",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.source.Objects, "Queue", "dte.submit", "spec.arguments.x-delivery-limit", "5")
				return CheckTopology(f.source.Objects, bus.Declaration(), true)
			},
			want: `x-delivery-limit: string "5"`,
		},
		{
			name: "a wrong delay TTL",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.broker.Objects, "Queue", "dte.delay.5s", "spec.arguments.x-message-ttl", json.Number("500"))
				return CheckTopology(f.broker.Objects, bus.Declaration(), false)
			},
			want: "x-message-ttl: int 500",
		},
		{
			name: "a missing binding",
			check: func(t *testing.T, f *fixture) []string {
				objs := drop(f.source.Objects, "Binding", "dte.direct--dte.submit--cl.dte.check")
				return CheckTopology(objs, bus.Declaration(), true)
			},
			want: `missing from the manifests: binding dte.direct → dte.submit routing key "cl.dte.check"`,
		},
		{
			name: "a missing binding of a queue the broker variant declares",
			check: func(t *testing.T, f *fixture) []string {
				objs := drop(f.broker.Objects, "Binding", "dte.delay--dte.delay.1m")
				return CheckTopology(objs, bus.Declaration(), false)
			},
			want: "missing from the manifests: binding dte.delay → dte.delay.1m",
		},
		{
			name: "a wrong header argument",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.source.Objects, "Binding", "dte.delay--dte.delay.15s", "spec.arguments.delay", "15")
				return CheckTopology(f.source.Objects, bus.Declaration(), true)
			},
			want: `delay: string "15"`,
		},
		{
			name: "a stale environment variable",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.source.Objects, "Service", "sign", svc+"env.0.name", "SIGN_MODE")
				return f.source.CheckServices(f.functions, f.policy)
			},
			want: "SIGN_MODE is set but sign does not read it",
		},
		{
			name: "a variable read but not set",
			check: func(t *testing.T, f *fixture) []string {
				i := envIndex(t, f.broker.Objects, "submit", "SII_ENV")
				edit(t, f.broker.Objects, "Service", "submit", svc+"env."+strconv.Itoa(i)+".name", "SII_ENVIRONMENT")
				return f.broker.CheckServices(f.functions, f.policy)
			},
			want: "SII_ENV, read by submit",
		},
		{
			name: "a required variable missing",
			check: func(t *testing.T, f *fixture) []string {
				i := envIndex(t, f.source.Objects, "sign", "CERT_FILE")
				edit(t, f.source.Objects, "Service", "sign", svc+"env."+strconv.Itoa(i)+".name", "CERTIFICATE")
				return f.source.CheckServices(f.functions, f.policy)
			},
			want: "CERT_FILE is required by sign",
		},
		{
			name: "a secret file outside its Secret",
			check: func(t *testing.T, f *fixture) []string {
				i := envIndex(t, f.source.Objects, "notify", "CALLBACK_SECRET_FILE")
				edit(t, f.source.Objects, "Service", "notify", svc+"env."+strconv.Itoa(i)+".value", "/var/run/secrets/dte/callback/token")
				return f.source.CheckServices(f.functions, f.policy)
			},
			want: "the Secret dte-callback has no key token",
		},
		{
			name: "a ConfigMap key that does not exist",
			check: func(t *testing.T, f *fixture) []string {
				i := envIndex(t, f.source.Objects, "submit", "SII_ENV")
				edit(t, f.source.Objects, "Service", "submit", svc+"env."+strconv.Itoa(i)+".valueFrom.configMapKeyRef.key", "SII")
				return f.source.CheckServices(f.functions, f.policy)
			},
			want: "no key SII in a ConfigMap dte/dte-config",
		},
		{
			name: "the wrong reply mode",
			check: func(t *testing.T, f *fixture) []string {
				i := envIndex(t, f.broker.Objects, "sign", "REPLY_MODE")
				edit(t, f.broker.Objects, "Service", "sign", svc+"env."+strconv.Itoa(i)+".value", "publish")
				return f.broker.CheckServices(f.functions, f.policy)
			},
			want: `REPLY_MODE must be "reply"`,
		},
		{
			name: "a writable root filesystem",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.source.Objects, "Service", "enqueue", svc+"securityContext.readOnlyRootFilesystem", false)
				return f.source.CheckServices(f.functions, f.policy)
			},
			want: "readOnlyRootFilesystem must be true",
		},
		{
			name: "a source on a queue the variant does not declare",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.source.Objects, "RabbitmqSource", "dte-notify", "spec.rabbitmqResourcesConfig.queueName", "dte.notifications")
				return f.source.CheckSources(f.sourceSinks(f.source), f.wiring)
			},
			want: "queue dte.notifications is not declared",
		},
		{
			name: "a source's parallelism differing from the connector's",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.source.Objects, "RabbitmqSource", "dte-sign", "spec.rabbitmqResourcesConfig.parallelism", json.Number("8"))
				return f.source.CheckSources(f.sourceSinks(f.source), f.wiring)
			},
			want: "parallelism 8, the connector's route has 4",
		},
		{
			name: "a source retrying once too often",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.broker.Objects, "RabbitmqSource", "dte-submit", "spec.delivery.retry", json.Number("3"))
				return f.broker.CheckSources(f.sourceSinks(f.broker), f.wiring)
			},
			want: "delivery.retry must be 2",
		},
		{
			name: "submit's delayed events sent straight to submit under the broker",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.broker.Objects, "RabbitmqSource", "dte-submit", "spec.sink.ref", map[string]any{"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "submit"})
				return f.broker.CheckSources(f.sourceSinks(f.broker), f.wiring)
			},
			want: "sink is Service submit /, want Broker dte /",
		},
		{
			name: "a trigger on an unknown event type",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.broker.Objects, "Trigger", "submit-check", "spec.filter.attributes.type", "cl.dte.checked")
				return f.broker.CheckBroker(brokerRef, f.wiring, events.Types)
			},
			want: `event type "cl.dte.checked" is not one of events.Types`,
		},
		{
			name: "a trigger without a dead-letter sink",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.broker.Objects, "Trigger", "notify-settled", "spec.delivery.deadLetterSink", nil)
				return f.broker.CheckBroker(brokerRef, f.wiring, events.Types)
			},
			want: "no delivery.deadLetterSink",
		},
		{
			name: "the dashboard scaled to zero",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.source.Objects, "Service", "dashboard", "spec.template.metadata.annotations", map[string]any{
					"autoscaling.knative.dev/min-scale": "0", "autoscaling.knative.dev/max-scale": "1", "autoscaling.knative.dev/target": "100",
				})
				return f.source.CheckServices(f.functions, f.policy)
			},
			want: `min-scale and max-scale must be "1"`,
		},
		{
			name: "a dashboard trigger dead-lettering into notify",
			check: func(t *testing.T, f *fixture) []string {
				edit(t, f.broker.Objects, "Trigger", "dashboard-settled", "spec.delivery.deadLetterSink.ref.name", "notify")
				return f.broker.CheckObserver(brokerRef, f.wiring, events.Types)
			},
			want: "delivery.deadLetterSink is Service notify /events/undelivered, want Service dashboard /events/undelivered",
		},
		{
			name: "a missing dashboard trigger",
			check: func(t *testing.T, f *fixture) []string {
				f.broker.Objects = drop(f.broker.Objects, "Trigger", "dashboard-failed")
				return f.broker.CheckObserver(brokerRef, f.wiring, events.Types)
			},
			want: "no Trigger gives cl.dte.failed to dashboard",
		},
		{
			name: "the dashboard scaled to zero on OpenFaaS",
			check: func(t *testing.T, f *fixture) []string {
				f.stack.Functions["dashboard"].Labels["com.openfaas.scale.zero"] = "true"
				return CheckStack(root, f.stack, f.functions, f.policy, f.targets, f.openfaas)
			},
			want: `labels com.openfaas.scale.zero "false"`,
		},
		{
			name: "a stack topic the connector does not feed",
			check: func(t *testing.T, f *fixture) []string {
				fn := f.stack.Functions["submit"]
				fn.Annotations = map[string]string{"topic": "dte.submit,dte.check", "com.openfaas.health.http.path": "/_/health", "com.openfaas.ready.http.path": "/_/ready"}
				f.stack.Functions["submit"] = fn
				return CheckStack(root, f.stack, f.functions, f.policy, f.targets, f.openfaas)
			},
			want: `topic "dte.check,dte.submit", but the connector feeds it "dte.submit"`,
		},
		{
			name: "a stack secret file that is not mounted",
			check: func(t *testing.T, f *fixture) []string {
				fn := f.stack.Functions["notify"]
				fn.Secrets = nil
				f.stack.Functions["notify"] = fn
				return CheckStack(root, f.stack, f.functions, f.policy, f.targets, f.openfaas)
			},
			want: "dte-callback-secret is not among its secrets",
		},
		{
			name: "a stale stack variable",
			check: func(t *testing.T, f *fixture) []string {
				f.stack.Functions["enqueue"].Environment["REPLY_MODE"] = "publish"
				return CheckStack(root, f.stack, f.functions, f.policy, f.targets, f.openfaas)
			},
			want: "REPLY_MODE is set but enqueue does not read it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadFixture(t)
			f.source.Objects, f.broker.Objects = clone(f.source.Objects), clone(f.broker.Objects)
			problems := tt.check(t, f)
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got %d:\n%s", tt.want, len(problems), strings.Join(problems, "\n"))
		})
	}
}
