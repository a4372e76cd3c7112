package deploycheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/testenv"
)

// root is the repository root, seen from this package.
const root = "../.."

// defaulted are the variables every deployment deliberately leaves to the
// code's default, and why. Any other variable a function reads must be set
// in its kn/ Service and its stack.yml entry (TestDefaulted keeps this list
// honest: each entry is read, and none is required).
var defaulted = map[string]string{
	"PORT":                 "the platform's: Knative injects it and forbids setting it; OpenFaaS expects 8080, the default",
	"SHUTDOWN_TIMEOUT":     "25 s fits Kubernetes' default grace period of 30 s",
	"LOCK_FILE":            "/tmp/.lock, OpenFaaS's convention; each pod has its own /tmp",
	"DTE_DEV_MODE":         "off: a deployment has its own secrets, never the published development ones",
	"SIGNATURE_WINDOW":     "5 min, the replay window the Odoo addon signs for",
	"PUBLISH_TIMEOUT":      "5 s to wait for the broker's confirm, within enqueue's 30 s request timeout",
	"MAX_BODY_BYTES":       "the request schema's own limit",
	"PUBLISH_CHANNELS":     "16 confirm channels is plenty for one instance at target concurrency 50",
	"CALLBACK_TIMEOUT":     "10 s for the one POST to Odoo of each delivery, within notify's 60 s request timeout",
	"CERT_KEY_FILE":        "only for a PEM certificate; deployments mount a PKCS#12 as CERT_FILE",
	"SII_CAF_KEYS":         "the SII's CAF-signing keys (IDK 100 and 300) are built in",
	"CAF_CACHE_TTL":        "1 min reuse of CAFs read from the archive",
	"EVENT_TIMEOUT":        "60 s (sign) and 90 s (submit), within the Services' timeoutSeconds of 90 and 120",
	"S3_PROBE":             "true: check the S3 server's conditional writes at start (one round trip per cold start)",
	"SII_TIMEOUT":          "30 s per SII call",
	"SII_TOKEN_TTL":        "30 min, under the SII token's own lifetime",
	"CHECK_DELAYS":         "the status re-poll schedule of docs/design.md",
	"CHECK_DEADLINE":       "48 h to wait for the SII's verdict",
	"NOTE_WAIT":            "30 s between checks of a note's referenced document",
	"NOTE_DEADLINE":        "48 h for that document to appear",
	"LOST_UPLOAD_GRACE":    "2 min before re-uploading after a lost answer",
	"FOLIO_WARNING":        "the dashboard warns below 100 folios left in a CAF",
	"CAF_EXPIRY_WARNING":   "the dashboard warns 30 days before a CAF expires, as dte caf list does",
	"STUCK_AFTER":          "the dashboard flags documents in sent for more than 1 h",
	"GOMAXPROCS":           "the dashboard's default of 1 (measured cheaper than more)",
	"GOGC":                 "400, the dashboard's and notify's default (measured: notify's printing halves its collector's share)",
	"NOTE_REFERENCE_GRACE": "15 min for a late referenced document (its signing retried) before a note goes anyway",
	"RETRY_DELAYS":         "the fast retry tier of docs/design.md: 3 attempts, 1 s and 5 s apart",
	"SLOW_RETRY_DELAYS":    "the slow retry tier of docs/design.md: 1, 5, 15, 30 min, then hourly",
	"RETRY_BUDGET":         "24 h of automatic retries before a document goes to error",
	"ARCHIVE_TIMEOUT":      "2 s for enqueue's read of a folio's signed DTE, within its 30 s request timeout",
	"FOLIO_CHECK":          "archive: the 409 at once for a folio reused with other content (off saves one S3 read per document)",
	// Traces are exported only where a collector is configured (kn/README.md,
	// "Monitoring"): until then trace ids still reach logs and Odoo.
	"OTEL_TRACES_EXPORTER":               "unset: otlp once an endpoint is set, else none",
	"OTEL_EXPORTER_OTLP_ENDPOINT":        "unset: no collector, traces not exported",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "unset: the endpoint's /v1/traces",
	"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf, the OpenTelemetry default",
	"OTEL_EXPORTER_OTLP_HEADERS":         "unset: a collector inside the cluster needs no API key",
	"OTEL_SERVICE_NAME":                  "the function's name",
	"OTEL_TRACES_SAMPLER":                "parentbased_always_on: every document the caller traces",
	"OTEL_TRACES_SAMPLER_ARG":            "only for the ratio samplers",
	"OTEL_RESOURCE_ATTRIBUTES":           "unset: service.name and service.namespace say enough",
}

// alwaysOn are the services that must not scale to zero, and why: they
// consume a queue on their own (not through a source or the connector)
// and keep state that one instance owns.
var alwaysOn = map[string]string{
	"dashboard": "consumes dte.dashboard continuously into its SQLite projection (one writer)",
}

// observer is the dashboard under the broker variant: Triggers POST it a
// copy of every event on /events, with its own dead-letter sink.
var observer = Observer{Service: "dashboard", Path: "/events", DeadLetterPath: "/events/undelivered"}

// Knative layout: kn/base with each variant's folder, the Secrets apart.
const (
	knBase    = "kn/base"
	knSecrets = "kn/secrets"
	brokerRef = "dte" // the broker variant's Broker
	// notify drains dte.dead on /dead (functions/notify/main.go).
	deadFunction, deadPath = "notify", "/dead"
)

// fixture is everything the checks compare: the code's facts and the
// deployment files.
type fixture struct {
	functions []string
	policy    EnvPolicy
	wiring    Wiring
	connector Connector
	targets   map[string]Sink
	source    Variant
	broker    Variant
	stack     Stack
	openfaas  []Object // openfaas/*.yaml but connector.yaml
}

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	fns, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil || len(fns) == 0 {
		t.Fatalf("no functions/*/main.go: %v", err)
	}
	for _, m := range fns {
		f.functions = append(f.functions, filepath.Base(filepath.Dir(m)))
	}
	sort.Strings(f.functions)
	reads, err := FunctionReads()
	if err != nil {
		t.Fatal(err)
	}
	f.policy = EnvPolicy{Reads: reads, Defaulted: defaulted}
	// notify serves dead letters on its own path (functions/notify/main.go).
	if src, err := os.ReadFile(filepath.Join(root, "functions", deadFunction, "main.go")); err != nil || !strings.Contains(string(src), `"`+deadPath+`"`) {
		t.Fatalf("functions/%s/main.go does not serve %s (%v)", deadFunction, deadPath, err)
	}
	if f.connector, err = LoadConnector(filepath.Join(root, "openfaas", "connector.yaml")); err != nil {
		t.Fatal(err)
	}
	var problems []string
	f.targets, problems = f.connector.Targets()
	for _, p := range problems {
		t.Error(p)
	}
	f.wiring = Wiring{
		WorkQueues: bus.WorkQueues(), DeadQueue: bus.QueueDead, DeadFunction: deadFunction, DeadPath: deadPath,
		Parallelism: f.connector.Parallelism(),
		Delivery:    Delivery{Attempts: f.connector.Attempts, Backoff: "exponential"},
		Observer:    observer,
	}
	secrets, err := LoadDirs(root, knSecrets)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []*Variant{{Name: "source", ReplyMode: "publish", AlwaysOn: alwaysOn}, {Name: "broker", ReplyMode: "reply", AlwaysOn: alwaysOn}} {
		if v.Objects, err = LoadDirs(root, knBase, "kn/"+v.Name); err != nil {
			t.Fatal(err)
		}
		v.Secrets = secrets
		if v.Name == "source" {
			f.source = *v
		} else {
			f.broker = *v
		}
	}
	if f.stack, err = LoadStack(filepath.Join(root, "stack.yml")); err != nil {
		t.Fatal(err)
	}
	f.stack.AlwaysOn = alwaysOn
	for _, file := range testenv.Glob(t, filepath.Join(root, "openfaas", "*.yaml")) {
		if filepath.Base(file) == "connector.yaml" {
			continue
		}
		objs, err := LoadFile(file, "openfaas/"+filepath.Base(file))
		if err != nil {
			t.Fatal(err)
		}
		f.openfaas = append(f.openfaas, objs...)
	}
	return f
}

// sourceSinks is what the RabbitmqSources of each variant must feed: in the
// source variant each work queue its function, in the broker variant each
// work queue it declares the Broker; in both dte.dead notify's /dead.
func (f *fixture) sourceSinks(v Variant) map[string]Sink {
	want := map[string]Sink{f.wiring.DeadQueue: {Kind: "Service", Name: f.wiring.DeadFunction, Path: f.wiring.DeadPath}}
	declared := declaredQueueNames(v.Objects)
	for q := range f.wiring.WorkQueues {
		switch {
		case v.Name == "source":
			want[q] = Sink{Kind: "Service", Name: FunctionOf(q), Path: "/"}
		case declared[q]:
			want[q] = Sink{Kind: "Broker", Name: brokerRef, Path: "/"}
		}
	}
	return want
}

func report(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

func TestDefaulted(t *testing.T) {
	report(t, loadFixture(t).policy.CheckDefaulted())
}

func TestKnativeTopology(t *testing.T) {
	f := loadFixture(t)
	t.Run("source", func(t *testing.T) { report(t, CheckTopology(f.source.Objects, bus.Declaration(), true)) })
	t.Run("broker", func(t *testing.T) {
		report(t, CheckTopology(f.broker.Objects, bus.Declaration(), false))
		// What the broker variant cannot do without: enqueue's
		// cl.dte.requested must land in a queue, and submit's delayed
		// events must come back to dte.submit.
		declared := declaredQueueNames(f.broker.Objects)
		for _, q := range []string{bus.QueueSign, bus.QueueSubmit, bus.QueueDead} {
			if !declared[q] {
				t.Errorf("broker variant: queue %s not declared", q)
			}
		}
		for _, tier := range bus.DelayTiers() {
			if !declared[bus.DelayQueue(tier)] {
				t.Errorf("broker variant: delay queue %s not declared", bus.DelayQueue(tier))
			}
		}
	})
}

func TestKnativeServices(t *testing.T) {
	f := loadFixture(t)
	for _, v := range []Variant{f.source, f.broker} {
		t.Run(v.Name, func(t *testing.T) {
			report(t, v.CheckServices(f.functions, f.policy))
			report(t, UnusedConfig(v.Objects))
			report(t, CheckUnique(append(append([]Object(nil), v.Objects...), v.Secrets...)))
			for _, o := range append(append([]Object(nil), v.Objects...), v.Secrets...) {
				if o.Kind != "Namespace" && o.Namespace != "dte" {
					t.Errorf("%s: namespace %q, want dte", o.ID(), o.Namespace)
				}
			}
		})
	}
}

func TestKnativeSources(t *testing.T) {
	f := loadFixture(t)
	for _, v := range []Variant{f.source, f.broker} {
		t.Run(v.Name, func(t *testing.T) { report(t, v.CheckSources(f.sourceSinks(v), f.wiring)) })
	}
}

func TestKnativeBroker(t *testing.T) {
	f := loadFixture(t)
	report(t, f.broker.CheckBroker(brokerRef, f.wiring, events.Types))
	report(t, f.broker.CheckObserver(brokerRef, f.wiring, events.Types))
	if n := len(ofKind(f.source.Objects, "eventing.knative.dev/", "Trigger")) + len(ofKind(f.source.Objects, "eventing.knative.dev/", "Broker")); n > 0 {
		t.Errorf("source variant: %d Broker or Trigger objects", n)
	}
}

// TestKnativeLayout fails on a folder of kn/ that no test reads.
func TestKnativeLayout(t *testing.T) {
	known := map[string]bool{"base": true, "source": true, "broker": true, "secrets": true}
	seen := map[string]bool{}
	for _, e := range testenv.ReadDir(t, filepath.Join(root, "kn")) {
		if e.IsDir() && !known[e.Name()] {
			t.Errorf("kn/%s: a folder the deployment check does not know", e.Name())
		}
		seen[e.Name()] = e.IsDir()
	}
	for name := range known {
		if !seen[name] {
			t.Errorf("kn/%s: missing, but the deployment check reads it", name)
		}
	}
}

func TestConnector(t *testing.T) {
	f := loadFixture(t)
	// docs/design.md: delivery is tried up to 3 times in all.
	if f.connector.Attempts != 3 {
		t.Errorf("connector attempts = %d, want 3 (docs/design.md)", f.connector.Attempts)
	}
	want := map[string]Sink{f.wiring.DeadQueue: {Kind: "Function", Name: f.wiring.DeadFunction, Path: f.wiring.DeadPath}}
	for q := range f.wiring.WorkQueues {
		want[q] = Sink{Kind: "Function", Name: FunctionOf(q), Path: "/"}
	}
	for q, s := range want {
		if got, ok := f.targets[q]; !ok || got != s {
			t.Errorf("connector route for %s: %v, want %v", q, got, s)
		}
	}
	queues := map[string]bool{}
	for _, q := range bus.Declaration().Queues {
		queues[q.Name] = true
	}
	for q := range f.targets {
		if _, ok := want[q]; !ok {
			t.Errorf("connector route for %s: the code feeds no function from it", q)
		}
		if !queues[q] {
			t.Errorf("connector route for %s: no such queue in bus.Declaration()", q)
		}
	}
}

func TestConnectorDeployment(t *testing.T) {
	f := loadFixture(t)
	deps := ofKind(f.openfaas, "apps/", "Deployment")
	if len(deps) != 1 {
		t.Fatalf("want one Deployment in openfaas/, found %d", len(deps))
	}
	var d struct {
		Spec struct {
			Template struct {
				Spec podSpec `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := deps[0].Decode(&d); err != nil {
		t.Fatal(err)
	}
	ps := d.Spec.Template.Spec
	where := deps[0].ID()
	const image = "ko://github.com/dtecl/pipeline/tools/cmd/dte"
	// The ConfigMap dte-connector is made from openfaas/connector.yaml
	// (kubectl create configmap --from-file), so it has that one key.
	withConfigMap := append([]Object{{Kind: "ConfigMap", Name: "dte-connector", Namespace: deps[0].Namespace,
		Raw: map[string]any{"data": map[string]any{"connector.yaml": ""}}}}, f.openfaas...)
	if len(ps.Containers) != 1 || len(ps.InitContainers) != 1 {
		t.Fatalf("%s: want one init container (dte topology) and one container (dte dispatch)", where)
	}
	init, c := ps.InitContainers[0], ps.Containers[0]
	if init.Image != image || strings.Join(init.Args, " ") != "topology" {
		t.Errorf("%s: init container runs %s %v, want %s topology", where, init.Image, init.Args, image)
	}
	if c.Image != image || strings.Join(c.Args, " ") != "dispatch --config /etc/dte/connector.yaml" {
		t.Errorf("%s: container runs %s %v, want %s dispatch --config /etc/dte/connector.yaml", where, c.Image, c.Args, image)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, vol := range ps.Volumes {
			if vol.Name == m.Name && vol.ConfigMap != nil && vol.ConfigMap.Name == "dte-connector" && m.MountPath == "/etc/dte" {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("%s: the ConfigMap dte-connector is not mounted at /etc/dte", where)
	}
	for _, ctr := range []container{init, c} {
		report(t, checkContainer(where+" "+ctr.Name, ctr, ps.Volumes, false))
		report(t, checkEnvRefs(where+" "+ctr.Name, ctr, ps.Volumes, deps[0].Namespace, withConfigMap, f.openfaas))
		hasURL := false
		for _, e := range ctr.Env {
			hasURL = hasURL || (e.Name == "AMQP_URL" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil)
		}
		if !hasURL {
			t.Errorf("%s %s: AMQP_URL must come from a Secret", where, ctr.Name)
		}
	}
	if ps.SecurityCtx == nil || ps.SecurityCtx.RunAsNonRoot == nil || !*ps.SecurityCtx.RunAsNonRoot {
		t.Errorf("%s: securityContext.runAsNonRoot must be true", where)
	}
}

func TestStack(t *testing.T) {
	f := loadFixture(t)
	report(t, CheckStack(root, f.stack, f.functions, f.policy, f.targets, f.openfaas))
	report(t, CheckUnique(f.openfaas))
}

func TestDockerfile(t *testing.T) {
	stages, err := ParseDockerfile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	report(t, CheckDockerfile("Dockerfile", stages))
	// One recipe: no function keeps a Dockerfile of its own.
	others, err := filepath.Glob(filepath.Join(root, "functions", "*", "Dockerfile"))
	if err != nil || len(others) > 0 {
		t.Errorf("Dockerfiles besides the one at the root: %v (%v)", others, err)
	}
}

// TestBuildContexts builds each function with the root Dockerfile's build
// stage, offline, from the two contexts it is used with: the one faas-cli
// assembles from stack.yml (handler folder, configuration.copy and
// build_args) and the repository itself (docker build --build-arg
// FUNCTION=... ., scripts/images.sh docker). The result must be a static
// binary, built without a go.work.
func TestBuildContexts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function")
	}
	f := loadFixture(t)
	stages, err := ParseDockerfile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The builds run offline, from the module cache, as an image build
	// does after its download step: fill the cache first (through the
	// proxy as configured), or on a fresh machine they depend on another
	// test having done it.
	for _, fn := range f.functions {
		cmd := exec.CommandContext(t.Context(), "go", "mod", "download")
		cmd.Dir = filepath.Join(root, "functions", fn)
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go mod download in functions/%s: %v\n%s", fn, err, out)
		}
	}
	for _, fn := range f.functions {
		t.Run(fn+"/faas-cli", func(t *testing.T) {
			t.Parallel()
			dir, out := t.TempDir(), t.TempDir()
			if err := AssembleContext(root, dir, f.stack, fn); err != nil {
				t.Fatal(err)
			}
			built, err := ParseDockerfile(filepath.Join(dir, "Dockerfile"))
			if err != nil {
				t.Fatalf("the context faas-cli builds has no usable Dockerfile: %v", err)
			}
			if log, err := RunBuildStage(t.Context(), dir, out, built[0], f.stack.Functions[fn].BuildArgs); err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if err := CheckStatic(filepath.Join(out, "function")); err != nil {
				t.Error(err)
			}
		})
		t.Run(fn+"/repository", func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			if log, err := RunBuildStage(t.Context(), root, out, stages[0], map[string]string{"FUNCTION": fn}); err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if err := CheckStatic(filepath.Join(out, "function")); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("no function named", func(t *testing.T) {
		if _, err := RunBuildStage(t.Context(), root, t.TempDir(), stages[0], nil); err == nil {
			t.Error("the build went on without FUNCTION")
		}
	})
}

// TestKoConfig checks that .ko.yaml builds every image the manifests name
// (ko:// references) statically: CGO off, -trimpath, stripped.
func TestKoConfig(t *testing.T) {
	f := loadFixture(t)
	raw, err := os.ReadFile(filepath.Join(root, ".ko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ko struct {
		DefaultPlatforms []string `json:"defaultPlatforms"`
		Builds           []struct {
			ID      string   `json:"id"`
			Dir     string   `json:"dir"`
			Main    string   `json:"main"`
			Env     []string `json:"env"`
			Flags   []string `json:"flags"`
			Ldflags []string `json:"ldflags"`
		} `json:"builds"`
	}
	if err := yaml.UnmarshalStrict(raw, &ko); err != nil {
		t.Fatalf(".ko.yaml: %v", err)
	}
	modules, err := WorkspaceModules(root)
	if err != nil {
		t.Fatal(err)
	}
	builds := map[string]bool{} // import paths
	for _, b := range ko.Builds {
		where := ".ko.yaml build " + b.ID
		dir := filepath.Clean(filepath.Join(root, b.Dir, b.Main))
		importPath := ""
		for mod, mdir := range modules {
			if rel, err := filepath.Rel(mdir, dir); err == nil && !strings.HasPrefix(rel, "..") {
				importPath = strings.TrimSuffix(mod+"/"+filepath.ToSlash(rel), "/.")
			}
		}
		if importPath == "" {
			t.Errorf("%s: %s is in no workspace module", where, dir)
			continue
		}
		builds[importPath] = true
		if !contains(b.Env, "CGO_ENABLED=0") || !contains(b.Flags, "-trimpath") || !contains(b.Ldflags, "-s") || !contains(b.Ldflags, "-w") {
			t.Errorf("%s: want env CGO_ENABLED=0, flags -trimpath, ldflags -s -w", where)
		}
	}
	var images []string
	for _, v := range []Variant{f.source, f.broker} {
		images = append(images, koImages(v.Objects)...)
	}
	images = append(images, koImages(f.openfaas)...)
	for _, fn := range f.functions {
		images = append(images, ImportPrefix+fn)
	}
	for _, im := range images {
		if !builds[im] {
			t.Errorf("%s: no build in .ko.yaml", im)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// koImages lists the import paths of the ko:// images in objs.
func koImages(objs []Object) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "image" && strings.HasPrefix(s, "ko://") {
					out = append(out, strings.TrimPrefix(s, "ko://"))
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, o := range objs {
		walk(o.Raw)
	}
	return out
}
