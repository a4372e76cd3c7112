package deploycheck

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/dtecl/pipeline/shared/serve"
)

// ImportPrefix is the import path of the function modules.
const ImportPrefix = "github.com/dtecl/pipeline/functions/"

// Typed views of pod specs (Knative Service template, Deployment template).
type (
	keyRef struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	}
	envVar struct {
		Name      string  `json:"name"`
		Value     *string `json:"value"`
		ValueFrom *struct {
			SecretKeyRef    *keyRef `json:"secretKeyRef"`
			ConfigMapKeyRef *keyRef `json:"configMapKeyRef"`
		} `json:"valueFrom"`
	}
	volumeMount struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
		ReadOnly  bool   `json:"readOnly"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `json:"path"`
			Port any    `json:"port"`
		} `json:"httpGet"`
	}
	container struct {
		Name            string        `json:"name"`
		Image           string        `json:"image"`
		Args            []string      `json:"args"`
		Env             []envVar      `json:"env"`
		EnvFrom         []any         `json:"envFrom"`
		VolumeMounts    []volumeMount `json:"volumeMounts"`
		ReadinessProbe  *probe        `json:"readinessProbe"`
		LivenessProbe   *probe        `json:"livenessProbe"`
		SecurityContext *struct {
			RunAsNonRoot             *bool `json:"runAsNonRoot"`
			ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
			AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
		} `json:"securityContext"`
		Resources struct {
			Limits   map[string]any `json:"limits"`
			Requests map[string]any `json:"requests"`
		} `json:"resources"`
	}
	volume struct {
		Name   string `json:"name"`
		Secret *struct {
			SecretName string `json:"secretName"`
		} `json:"secret"`
		ConfigMap *struct {
			Name string `json:"name"`
		} `json:"configMap"`
		EmptyDir map[string]any `json:"emptyDir"`
	}
	podSpec struct {
		Containers     []container  `json:"containers"`
		InitContainers []container  `json:"initContainers"`
		Volumes        []volume     `json:"volumes"`
		TimeoutSeconds *json.Number `json:"timeoutSeconds"`
		SecurityCtx    *struct {
			RunAsNonRoot *bool `json:"runAsNonRoot"`
		} `json:"securityContext"`
	}
	knService struct {
		Spec struct {
			Template struct {
				Metadata struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
				Spec podSpec `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	destination struct {
		Ref *struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
			Namespace  string `json:"namespace"`
		} `json:"ref"`
		URI string `json:"uri"`
	}
	deliverySpec struct {
		Retry          *json.Number `json:"retry"`
		BackoffPolicy  string       `json:"backoffPolicy"`
		BackoffDelay   string       `json:"backoffDelay"`
		DeadLetterSink *destination `json:"deadLetterSink"`
	}
	rabbitmqSource struct {
		Spec struct {
			Cluster   clusterRef `json:"rabbitmqClusterReference"`
			Resources struct {
				Predeclared bool         `json:"predeclared"`
				QueueName   string       `json:"queueName"`
				Parallelism *json.Number `json:"parallelism"`
			} `json:"rabbitmqResourcesConfig"`
			Delivery deliverySpec `json:"delivery"`
			Sink     destination  `json:"sink"`
		} `json:"spec"`
	}
	trigger struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec struct {
			Broker string `json:"broker"`
			Filter struct {
				Attributes map[string]string `json:"attributes"`
			} `json:"filter"`
			Subscriber destination  `json:"subscriber"`
			Delivery   deliverySpec `json:"delivery"`
		} `json:"spec"`
	}
	broker struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec struct {
			Config struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Name       string `json:"name"`
			} `json:"config"`
			Delivery deliverySpec `json:"delivery"`
		} `json:"spec"`
	}
)

// Sink is where a source or trigger delivers: a Knative Service or a Broker
// by name, and a path.
type Sink struct {
	Kind string // Service or Broker
	Name string
	Path string // "/" for the root
}

// String reads "Service notify /dead".
func (s Sink) String() string { return s.Kind + " " + s.Name + " " + s.Path }

func sinkOf(d destination) Sink {
	s := Sink{Path: d.URI}
	if s.Path == "" {
		s.Path = "/"
	}
	if d.Ref != nil {
		s.Kind, s.Name = d.Ref.Kind, d.Ref.Name
	}
	return s
}

// Delivery is the retry contract every platform must honour.
type Delivery struct {
	Attempts int    // deliveries in all (docs/design.md: 3)
	Backoff  string // backoffPolicy: exponential
}

func (d Delivery) check(where string, spec deliverySpec, deadLetter *Sink) []string {
	var problems []string
	retry := -1
	if spec.Retry != nil {
		if n, err := spec.Retry.Int64(); err == nil {
			retry = int(n)
		}
	}
	if retry+1 != d.Attempts {
		problems = append(problems, fmt.Sprintf("%s: delivery.retry must be %d (%d deliveries in all, like the connector's attempts)", where, d.Attempts-1, d.Attempts))
	}
	if spec.BackoffPolicy != d.Backoff {
		problems = append(problems, fmt.Sprintf("%s: delivery.backoffPolicy %q, want %s", where, spec.BackoffPolicy, d.Backoff))
	}
	if !strings.HasPrefix(spec.BackoffDelay, "PT") {
		problems = append(problems, fmt.Sprintf("%s: delivery.backoffDelay %q is not an ISO-8601 duration like PT1S", where, spec.BackoffDelay))
	}
	if deadLetter != nil {
		if spec.DeadLetterSink == nil {
			problems = append(problems, fmt.Sprintf("%s: no delivery.deadLetterSink (want %s)", where, deadLetter))
		} else if got := sinkOf(*spec.DeadLetterSink); got != *deadLetter {
			problems = append(problems, fmt.Sprintf("%s: delivery.deadLetterSink is %s, want %s", where, got, deadLetter))
		}
	}
	return problems
}

// Wiring is what the code and the connector say about delivery.
type Wiring struct {
	// WorkQueues is bus.WorkQueues(): each function queue and its event types.
	WorkQueues map[string][]string
	// DeadQueue is the dead-letter queue that DeadFunction drains on DeadPath.
	DeadQueue, DeadFunction, DeadPath string
	// Parallelism per queue, from the connector's routes.
	Parallelism map[string]int
	// Delivery is the retry contract.
	Delivery Delivery
	// Observer gets a copy of every event from the Broker (the dashboard);
	// its Triggers are checked by CheckObserver, not as work queues.
	Observer Observer
}

// FunctionOf names the function a work queue feeds: dte.sign → sign.
func FunctionOf(queue string) string { return strings.TrimPrefix(queue, "dte.") }

// Variant is one way of running on Knative: its objects (kn/base plus its
// own folder) and the Secrets (kn/secrets).
type Variant struct {
	Name      string // source or broker
	ReplyMode string // what REPLY_MODE the event functions run with
	Objects   []Object
	Secrets   []Object
	// AlwaysOn names the functions that must run as exactly one instance
	// that never scales to zero, and why.
	AlwaysOn map[string]string
}

// CheckServices checks the Knative Service of every function: its image,
// environment (against policy), config and secret references, probes,
// scale to zero, resources and security settings.
func (v Variant) CheckServices(functions []string, policy EnvPolicy) []string {
	var problems []string
	services := map[string]Object{}
	for _, o := range ofKind(v.Objects, "serving.knative.dev/", "Service") {
		services[o.Name] = o
	}
	want := map[string]bool{}
	for _, fn := range functions {
		want[fn] = true
		o, ok := services[fn]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s variant: no Knative Service %s", v.Name, fn))
			continue
		}
		problems = append(problems, v.checkService(fn, o, policy)...)
	}
	for name, o := range services {
		if !want[name] {
			problems = append(problems, fmt.Sprintf("%s: no function %s in functions/", o.ID(), name))
		}
	}
	sort.Strings(problems)
	return problems
}

func (v Variant) checkService(fn string, o Object, policy EnvPolicy) []string {
	var s knService
	if err := o.Decode(&s); err != nil {
		return []string{err.Error()}
	}
	where := o.ID()
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	tmpl := s.Spec.Template
	ann := tmpl.Metadata.Annotations
	if why, ok := v.AlwaysOn[fn]; ok {
		if ann["autoscaling.knative.dev/min-scale"] != "1" || ann["autoscaling.knative.dev/max-scale"] != "1" {
			add("autoscaling.knative.dev/min-scale and max-scale must be \"1\": it %s", why)
		}
	} else if ann["autoscaling.knative.dev/min-scale"] != "0" {
		add("autoscaling.knative.dev/min-scale must be \"0\" (scale to zero)")
	}
	for _, k := range []string{"autoscaling.knative.dev/max-scale", "autoscaling.knative.dev/target"} {
		if ann[k] == "" {
			add("no %s annotation", k)
		}
	}
	if tmpl.Spec.TimeoutSeconds == nil {
		add("no timeoutSeconds")
	}
	if len(tmpl.Spec.Containers) != 1 {
		add("want one container, found %d", len(tmpl.Spec.Containers))
		return problems
	}
	c := tmpl.Spec.Containers[0]
	if want := "ko://" + ImportPrefix + fn; c.Image != want {
		add("image %q, want %q (ko resolves it)", c.Image, want)
	}
	problems = append(problems, checkContainer(where, c, tmpl.Spec.Volumes, true)...)
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != serve.PathReady {
		add("readinessProbe must GET %s", serve.PathReady)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || (c.LivenessProbe.HTTPGet.Path != serve.PathHealthz && c.LivenessProbe.HTTPGet.Path != serve.PathHealth) {
		add("livenessProbe must GET %s or %s", serve.PathHealthz, serve.PathHealth)
	}
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
		if e.Name == "PORT" {
			add("PORT is Knative's to set (it is reserved)")
		}
		if e.Name == "REPLY_MODE" && (e.Value == nil || *e.Value != v.ReplyMode) {
			add("REPLY_MODE must be %q in the %s variant", v.ReplyMode, v.Name)
		}
	}
	problems = append(problems, policy.CheckEnv(fn, where, names)...)
	problems = append(problems, checkEnvRefs(where, c, tmpl.Spec.Volumes, o.Namespace, v.Objects, v.Secrets)...)
	return problems
}

// checkContainer checks what every container must have: no envFrom (each
// variable explicit, so the environment check sees it), resources, a
// non-root read-only root filesystem with /tmp writable, and volume mounts
// that name a volume.
func checkContainer(where string, c container, vols []volume, needTmp bool) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	if len(c.EnvFrom) > 0 {
		add("envFrom hides which variables are set; list each in env")
	}
	if c.Resources.Limits["memory"] == nil || c.Resources.Requests["memory"] == nil || c.Resources.Requests["cpu"] == nil {
		add("resources: want requests of cpu and memory and a memory limit")
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		add("securityContext.readOnlyRootFilesystem must be true")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		add("securityContext.allowPrivilegeEscalation must be false")
	}
	byName := map[string]volume{}
	for _, vol := range vols {
		byName[vol.Name] = vol
	}
	tmp := false
	for _, m := range c.VolumeMounts {
		vol, ok := byName[m.Name]
		if !ok {
			add("volumeMount %s names no volume", m.Name)
			continue
		}
		if m.MountPath == "/tmp" && vol.EmptyDir != nil {
			tmp = true
		}
		if (vol.Secret != nil || vol.ConfigMap != nil) && !m.ReadOnly {
			add("volumeMount %s must be readOnly", m.Name)
		}
	}
	if needTmp && !tmp {
		add("no emptyDir at /tmp: with a read-only root filesystem the function cannot create /tmp/.lock")
	}
	return problems
}

// checkEnvRefs checks that what the environment points at exists: each
// configMapKeyRef and secretKeyRef names a key of a declared object, and
// each value that is a path inside a mounted secret names one of its keys.
// A *_FILE variable must point into a mounted secret.
func checkEnvRefs(where string, c container, vols []volume, ns string, objs, secrets []Object) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	mounts := map[string]string{} // mount path → secret name
	for _, m := range c.VolumeMounts {
		for _, vol := range vols {
			if vol.Name == m.Name && vol.Secret != nil {
				mounts[m.MountPath] = vol.Secret.SecretName
			}
		}
	}
	for _, vol := range vols {
		switch {
		case vol.Secret != nil:
			if _, ok := objectKeys(secrets, "Secret", ns, vol.Secret.SecretName); !ok {
				add("volume %s: no Secret %s/%s declared", vol.Name, ns, vol.Secret.SecretName)
			}
		case vol.ConfigMap != nil:
			if _, ok := objectKeys(objs, "ConfigMap", ns, vol.ConfigMap.Name); !ok {
				add("volume %s: no ConfigMap %s/%s declared", vol.Name, ns, vol.ConfigMap.Name)
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			r := e.ValueFrom.ConfigMapKeyRef
			if keys, ok := objectKeys(objs, "ConfigMap", ns, r.Name); !ok || !keys[r.Key] {
				add("%s: no key %s in a ConfigMap %s/%s", e.Name, r.Key, ns, r.Name)
			}
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			if keys, ok := objectKeys(secrets, "Secret", ns, r.Name); !ok || !keys[r.Key] {
				add("%s: no key %s in a Secret %s/%s", e.Name, r.Key, ns, r.Name)
			}
		case e.Value != nil:
			dir, file := path.Split(*e.Value)
			secret, mounted := mounts[strings.TrimSuffix(dir, "/")]
			if mounted {
				if keys, _ := objectKeys(secrets, "Secret", ns, secret); !keys[file] {
					add("%s=%s: the Secret %s has no key %s", e.Name, *e.Value, secret, file)
				}
			} else if strings.HasSuffix(e.Name, "_FILE") {
				add("%s=%s is not a file of a mounted Secret", e.Name, *e.Value)
			}
		}
	}
	return problems
}

// objectKeys returns the data keys of a ConfigMap or Secret.
func objectKeys(objs []Object, kind, ns, name string) (map[string]bool, bool) {
	for _, o := range objs {
		if o.Kind != kind || o.Name != name || o.Namespace != ns {
			continue
		}
		keys := map[string]bool{}
		for _, field := range []string{"data", "stringData", "binaryData"} {
			if m, ok := o.Raw[field].(map[string]any); ok {
				for k := range m {
					keys[k] = true
				}
			}
		}
		return keys, true
	}
	return nil, false
}

// UnusedConfig reports ConfigMap keys that no container's environment
// references: configuration that nothing reads.
func UnusedConfig(objs []Object) []string {
	used := map[string]bool{}
	for _, o := range ofKind(objs, "serving.knative.dev/", "Service") {
		var s knService
		if o.Decode(&s) != nil {
			continue
		}
		for _, c := range s.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
					used[o.Namespace+"/"+e.ValueFrom.ConfigMapKeyRef.Name+"/"+e.ValueFrom.ConfigMapKeyRef.Key] = true
				}
			}
		}
	}
	var problems []string
	for _, o := range ofKind(objs, "v1", "ConfigMap") {
		keys, _ := objectKeys(objs, "ConfigMap", o.Namespace, o.Name)
		for k := range keys {
			if !used[o.Namespace+"/"+o.Name+"/"+k] {
				problems = append(problems, fmt.Sprintf("%s: key %s is read by no Service (stale)", o.ID(), k))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// sources reads the RabbitmqSources as queue → (object, spec).
func sources(objs []Object) (map[string]Object, map[string]rabbitmqSource, []string) {
	byQueue := map[string]Object{}
	specs := map[string]rabbitmqSource{}
	var problems []string
	for _, o := range ofKind(objs, "sources.knative.dev/", "RabbitmqSource") {
		var s rabbitmqSource
		if err := o.Decode(&s); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		q := s.Spec.Resources.QueueName
		if prev, dup := byQueue[q]; dup {
			problems = append(problems, fmt.Sprintf("%s and %s both consume %s", prev.ID(), o.ID(), q))
		}
		byQueue[q], specs[q] = o, s
	}
	return byQueue, specs, problems
}

// CheckSources checks the RabbitmqSources: exactly one per queue in want
// (queue → sink) and no other, each consuming a queue the variant declares
// (predeclared), with the wiring's delivery and parallelism.
func (v Variant) CheckSources(want map[string]Sink, w Wiring) []string {
	objs, specs, problems := sources(v.Objects)
	declared := declaredQueueNames(v.Objects)
	for q, sink := range want {
		o, ok := objs[q]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s variant: no RabbitmqSource consumes %s (want one into %s)", v.Name, q, sink))
			continue
		}
		s := specs[q]
		if got := sinkOf(s.Spec.Sink); got != sink {
			problems = append(problems, fmt.Sprintf("%s: sink is %s, want %s", o.ID(), got, sink))
		}
	}
	for q, o := range objs {
		s := specs[q]
		if _, ok := want[q]; !ok {
			problems = append(problems, fmt.Sprintf("%s: consumes %s, which nothing in this variant should consume", o.ID(), q))
		}
		if !declared[q] {
			problems = append(problems, fmt.Sprintf("%s: queue %s is not declared in this variant's topology", o.ID(), q))
		}
		if !s.Spec.Resources.Predeclared {
			problems = append(problems, fmt.Sprintf("%s: predeclared must be true: the queue is ours, with its dead-letter settings", o.ID()))
		}
		if p, ok := w.Parallelism[q]; ok {
			got := int64(0)
			if s.Spec.Resources.Parallelism != nil {
				got, _ = s.Spec.Resources.Parallelism.Int64()
			}
			if int(got) != p {
				problems = append(problems, fmt.Sprintf("%s: parallelism %d, the connector's route has %d", o.ID(), got, p))
			}
		}
		problems = append(problems, w.Delivery.check(o.ID(), s.Spec.Delivery, nil)...)
	}
	sort.Strings(problems)
	return problems
}

// CheckBroker checks the broker variant's Broker and Triggers: one Trigger
// per (event type, function) of the work queues and no other, each with
// the wiring's delivery and notify's dead-letter path as dead-letter sink.
func (v Variant) CheckBroker(brokerName string, w Wiring, eventTypes []string) []string {
	var problems []string
	dead := Sink{Kind: "Service", Name: w.DeadFunction, Path: w.DeadPath}
	brokers := ofKind(v.Objects, "eventing.knative.dev/", "Broker")
	if len(brokers) != 1 || brokers[0].Name != brokerName {
		problems = append(problems, fmt.Sprintf("%s variant: want one Broker, %s", v.Name, brokerName))
	}
	for _, o := range brokers {
		var b broker
		if err := o.Decode(&b); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if b.Metadata.Annotations["eventing.knative.dev/broker.class"] != "RabbitMQBroker" {
			problems = append(problems, o.ID()+": broker.class must be RabbitMQBroker")
		}
		if len(ofKind(v.Objects, b.Spec.Config.APIVersion, b.Spec.Config.Kind)) == 0 || b.Spec.Config.Kind != "RabbitmqBrokerConfig" {
			problems = append(problems, fmt.Sprintf("%s: config names no RabbitmqBrokerConfig declared here", o.ID()))
		}
		problems = append(problems, w.Delivery.check(o.ID(), b.Spec.Delivery, &dead)...)
	}
	known := map[string]bool{}
	for _, t := range eventTypes {
		known[t] = true
	}
	want := map[string]string{} // "type → fn" → queue
	for q, types := range w.WorkQueues {
		for _, t := range types {
			want[t+" → "+FunctionOf(q)] = q
		}
	}
	got := map[string]bool{}
	for _, o := range ofKind(v.Objects, "eventing.knative.dev/", "Trigger") {
		var t trigger
		if err := o.Decode(&t); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		typ := t.Spec.Filter.Attributes["type"]
		if len(t.Spec.Filter.Attributes) != 1 || typ == "" {
			problems = append(problems, o.ID()+": want a filter on the attribute type only")
		}
		if !known[typ] {
			problems = append(problems, fmt.Sprintf("%s: event type %q is not one of events.Types", o.ID(), typ))
		}
		if t.Spec.Broker != brokerName {
			problems = append(problems, fmt.Sprintf("%s: broker %q, want %s", o.ID(), t.Spec.Broker, brokerName))
		}
		sub := sinkOf(t.Spec.Subscriber)
		if w.Observer.Service != "" && sub.Kind == "Service" && sub.Name == w.Observer.Service {
			continue // CheckObserver's
		}
		key := typ + " → " + sub.Name
		q, ok := want[key]
		switch {
		case sub.Kind != "Service" || sub.Path != "/":
			problems = append(problems, fmt.Sprintf("%s: subscriber %s, want a function's Service at /", o.ID(), sub))
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: %s, but the code routes %s to no queue of %s (bus.WorkQueues)", o.ID(), key, typ, sub.Name))
		case got[key]:
			problems = append(problems, fmt.Sprintf("%s: a second Trigger for %s", o.ID(), key))
		default:
			if p := fmt.Sprint(w.Parallelism[q]); t.Metadata.Annotations["rabbitmq.eventing.knative.dev/parallelism"] != p {
				problems = append(problems, fmt.Sprintf("%s: parallelism annotation %q, the connector's route for %s has %s", o.ID(), t.Metadata.Annotations["rabbitmq.eventing.knative.dev/parallelism"], q, p))
			}
		}
		got[key] = true
		problems = append(problems, w.Delivery.check(o.ID(), t.Spec.Delivery, &dead)...)
	}
	for key := range want {
		if !got[key] {
			problems = append(problems, fmt.Sprintf("%s variant: no Trigger for %s", v.Name, key))
		}
	}
	sort.Strings(problems)
	return problems
}

// CheckUnique reports two objects of one kind with the same namespace and
// name: the second would overwrite the first.
func CheckUnique(objs []Object) []string {
	seen := map[string]Object{}
	var problems []string
	for _, o := range objs {
		k := o.Kind + " " + o.Namespace + "/" + o.Name
		if prev, ok := seen[k]; ok {
			problems = append(problems, fmt.Sprintf("%s and %s: same name", prev.ID(), o.ID()))
		}
		seen[k] = o
	}
	return problems
}
