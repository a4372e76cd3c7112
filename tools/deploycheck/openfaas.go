package deploycheck

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/tools/dispatchconfig"
)

// SecretsDir is where OpenFaaS mounts a function's secrets.
const SecretsDir = "/var/openfaas/secrets/"

// Stack is the part of an OpenFaaS stack.yml this check reads; the field
// names are faas-cli's.
type Stack struct {
	Version  json.RawMessage `json:"version"`
	Provider struct {
		Name    string `json:"name"`
		Gateway string `json:"gateway"`
	} `json:"provider"`
	Configuration struct {
		Templates []map[string]string `json:"templates"`
		Copy      []string            `json:"copy"`
	} `json:"configuration"`
	Functions map[string]StackFunction `json:"functions"`
	// AlwaysOn names the functions that must run as exactly one instance
	// that never scales to zero, and why (not part of the file).
	AlwaysOn map[string]string `json:"-"`
}

// StackFunction is one function of a stack.
type StackFunction struct {
	Lang                   string            `json:"lang"`
	Handler                string            `json:"handler"`
	Image                  string            `json:"image"`
	FProcess               string            `json:"fprocess"`
	Environment            map[string]string `json:"environment"`
	EnvironmentFile        []string          `json:"environment_file"`
	Secrets                []string          `json:"secrets"`
	Labels                 map[string]string `json:"labels"`
	Annotations            map[string]string `json:"annotations"`
	Limits                 map[string]string `json:"limits"`
	Requests               map[string]string `json:"requests"`
	Constraints            []string          `json:"constraints"`
	ReadOnlyRootFilesystem bool              `json:"readonly_root_filesystem"`
	SkipBuild              bool              `json:"skip_build"`
	BuildArgs              map[string]string `json:"build_args"`
	BuildOptions           []string          `json:"build_options"`
	BuildSecrets           map[string]string `json:"build_secrets"`
	Platforms              string            `json:"platforms"`
	Namespace              string            `json:"namespace"`
}

var substitution = regexp.MustCompile(`\$\{([^}]*)\}`)
var substForm = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(:-(.*))?$`)

// Envsubst replaces ${VAR} and ${VAR:-default} the way faas-cli does before
// parsing, taking values from lookup (the default when lookup has none, or
// an empty value). It rejects any other form, which faas-cli might read
// differently.
func Envsubst(s string, lookup func(string) (string, bool)) (string, error) {
	var bad []string
	out := substitution.ReplaceAllStringFunc(s, func(m string) string {
		sm := substForm.FindStringSubmatch(m[2 : len(m)-1])
		if sm == nil {
			bad = append(bad, m)
			return m
		}
		if v, ok := lookup(sm[1]); ok && v != "" {
			return v
		}
		return sm[3]
	})
	if len(bad) > 0 {
		return "", fmt.Errorf("unsupported substitutions %s: use ${VAR} or ${VAR:-default}", strings.Join(bad, ", "))
	}
	return out, nil
}

// LoadStack reads a stack.yml strictly (an unknown or misspelt key is an
// error), after substituting every ${VAR} with its default, or nothing.
func LoadStack(path string) (Stack, error) {
	var st Stack
	raw, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	text, err := Envsubst(string(raw), func(name string) (string, bool) { return "", false })
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	if err := yaml.UnmarshalStrict([]byte(text), &st); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Connector is openfaas/connector.yaml, the configuration of `dte
// dispatch`, read as `dte dispatch` reads it (dispatchconfig).
type Connector struct{ dispatch.Config }

// LoadConnector reads the connector's configuration.
func LoadConnector(path string) (Connector, error) {
	cfg, err := dispatchconfig.Load(path)
	return Connector{cfg}, err
}

// Targets maps each route's queue to the function and path it POSTs to
// (http://gateway.openfaas:8080/function/notify/dead → notify, /dead).
func (c Connector) Targets() (map[string]Sink, []string) {
	out := map[string]Sink{}
	var problems []string
	for _, r := range c.Routes {
		u, err := url.Parse(r.URL)
		rest, ok := "", false
		if err == nil {
			rest, ok = strings.CutPrefix(u.Path, "/function/")
		}
		if !ok || rest == "" {
			problems = append(problems, fmt.Sprintf("connector route %s: URL %q is not the gateway's /function/<name>[/path]", r.Queue, r.URL))
			continue
		}
		fn, p, _ := strings.Cut(rest, "/")
		if _, dup := out[r.Queue]; dup {
			problems = append(problems, fmt.Sprintf("connector: two routes for %s", r.Queue))
		}
		if r.Parallelism < 1 {
			problems = append(problems, fmt.Sprintf("connector route %s: parallelism %d, want at least 1", r.Queue, r.Parallelism))
		}
		out[r.Queue] = Sink{Kind: "Function", Name: fn, Path: "/" + p}
	}
	return out, problems
}

// Parallelism maps each route's queue to the parallelism Knative's
// sources and triggers must have for it. A route with `order: document`
// keeps each document's messages in order at any parallelism; Knative's
// RabbitMQ source and triggers have no such mode, so there it must be 1
// (the queue's order).
func (c Connector) Parallelism() map[string]int {
	out := map[string]int{}
	for _, r := range c.Routes {
		out[r.Queue] = r.Parallelism
		if r.Order == dispatch.OrderDocument {
			out[r.Queue] = 1
		}
	}
	return out
}

// CheckStack checks stack.yml against the functions (their folders, the
// environment they read) and the connector's routes: one entry per
// function, built with the root Dockerfile (copied in with ./shared and
// ./functions, the function named in build_args), every secret file
// mounted, scale to zero, the health paths, and a topic annotation naming
// exactly the queues the connector feeds to it.
func CheckStack(root string, st Stack, functions []string, policy EnvPolicy, targets map[string]Sink, declaredSecrets []Object) []string {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, "stack.yml: "+fmt.Sprintf(format, args...))
	}
	if v := strings.Trim(string(st.Version), `"`); v != "" && v != "1" && v != "1.0" {
		add("version %s: faas-cli accepts only 1.0", st.Version)
	}
	if st.Provider.Name != "openfaas" {
		add("provider.name %q: faas-cli requires openfaas", st.Provider.Name)
	}
	copied := map[string]bool{}
	for _, c := range st.Configuration.Copy {
		copied[filepath.Clean(c)] = true
		if _, err := os.Stat(filepath.Join(root, c)); err != nil {
			add("configuration.copy %s: %v", c, err)
		}
	}
	for _, c := range []string{"shared", "functions", "Dockerfile"} {
		if !copied[c] {
			add("configuration.copy lacks ./%s: the one Dockerfile builds from the repository's layout", c)
		}
	}
	topics := map[string][]string{} // function → queues the connector feeds it
	for q, s := range targets {
		topics[s.Name] = append(topics[s.Name], q)
	}
	want := map[string]bool{}
	for _, fn := range functions {
		want[fn] = true
		f, ok := st.Functions[fn]
		if !ok {
			add("no function %s", fn)
			continue
		}
		problems = append(problems, checkStackFunction(root, fn, f, policy, topics[fn], declaredSecrets, st.AlwaysOn[fn])...)
	}
	for fn := range st.Functions {
		if !want[fn] {
			add("function %s has no folder with a main package in functions/", fn)
		}
	}
	for fn := range topics {
		if !want[fn] {
			add("the connector routes to %s, which is no function", fn)
		}
	}
	sort.Strings(problems)
	return problems
}

func checkStackFunction(root, fn string, f StackFunction, policy EnvPolicy, queues []string, declaredSecrets []Object, alwaysOn string) []string {
	where := "stack.yml function " + fn
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	if f.Lang != "dockerfile" {
		add("lang %q, want dockerfile", f.Lang)
	}
	if want := "./functions/" + fn; f.Handler != want {
		add("handler %q, want %s", f.Handler, want)
	} else if _, err := os.Stat(filepath.Join(root, f.Handler, "main.go")); err != nil {
		add("handler has no main package: %v", err)
	}
	if f.BuildArgs["FUNCTION"] != fn || len(f.BuildArgs) != 1 {
		add("build_args %v, want FUNCTION: %s (the root Dockerfile builds the function it names)", f.BuildArgs, fn)
	}
	if f.Image == "" {
		add("no image")
	}
	if len(f.EnvironmentFile) > 0 {
		add("environment_file hides which variables are set; list them in environment")
	}
	if !f.ReadOnlyRootFilesystem {
		add("readonly_root_filesystem must be true")
	}
	switch {
	case alwaysOn != "":
		if f.Labels["com.openfaas.scale.zero"] != "false" || f.Labels["com.openfaas.scale.min"] != "1" || f.Labels["com.openfaas.scale.max"] != "1" {
			add("labels com.openfaas.scale.zero \"false\", scale.min and scale.max \"1\": it %s", alwaysOn)
		}
	case f.Labels["com.openfaas.scale.zero"] != "true":
		add("label com.openfaas.scale.zero must be \"true\"")
	}
	for _, l := range []string{"com.openfaas.scale.min", "com.openfaas.scale.max"} {
		if f.Labels[l] == "" {
			add("no label %s", l)
		}
	}
	if f.Annotations["com.openfaas.health.http.path"] != serve.PathHealth {
		add("annotation com.openfaas.health.http.path must be %s", serve.PathHealth)
	}
	if f.Annotations["com.openfaas.ready.http.path"] != serve.PathReady {
		add("annotation com.openfaas.ready.http.path must be %s", serve.PathReady)
	}
	if f.Limits["memory"] == "" {
		add("no memory limit")
	}
	var topic []string
	if t := f.Annotations["topic"]; t != "" {
		for _, q := range strings.Split(t, ",") {
			topic = append(topic, strings.TrimSpace(q))
		}
	}
	sort.Strings(topic)
	sort.Strings(queues)
	if strings.Join(topic, ",") != strings.Join(queues, ",") {
		add("topic %q, but the connector feeds it %q", strings.Join(topic, ","), strings.Join(queues, ","))
	}
	var names []string
	usedSecrets := map[string]bool{}
	listed := map[string]bool{}
	for _, s := range f.Secrets {
		listed[s] = true
		if keys, ok := objectKeys(declaredSecrets, "Secret", "openfaas-fn", s); !ok || !keys[s] {
			add("secret %s: no Secret openfaas-fn/%s with the key %s in openfaas/ (faas-cli secret create makes that)", s, s, s)
		}
	}
	for name, value := range f.Environment {
		names = append(names, name)
		if name == "REPLY_MODE" && value != "publish" {
			add("REPLY_MODE must be publish: the connector ignores replies")
		}
		if secret, ok := strings.CutPrefix(value, SecretsDir); ok {
			usedSecrets[secret] = true
			if !listed[secret] {
				add("%s=%s: %s is not among its secrets", name, value, secret)
			}
		} else if strings.HasSuffix(name, "_FILE") {
			add("%s=%s is not a file under %s", name, value, SecretsDir)
		}
	}
	for s := range listed {
		if !usedSecrets[s] {
			add("secret %s is mounted but no variable points at it (stale)", s)
		}
	}
	problems = append(problems, policy.CheckEnv(fn, where, names)...)
	return problems
}
