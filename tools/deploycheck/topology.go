package deploycheck

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
)

// Typed views of the messaging-topology-operator objects.
type (
	clusterRef struct {
		Name             string         `json:"name"`
		Namespace        string         `json:"namespace"`
		ConnectionSecret map[string]any `json:"connectionSecret"`
	}
	rmqExchange struct {
		Spec struct {
			Name       string         `json:"name"`
			Type       string         `json:"type"`
			Durable    bool           `json:"durable"`
			AutoDelete bool           `json:"autoDelete"`
			Vhost      string         `json:"vhost"`
			Arguments  map[string]any `json:"arguments"`
			Cluster    clusterRef     `json:"rabbitmqClusterReference"`
		} `json:"spec"`
	}
	rmqQueue struct {
		Spec struct {
			Name       string         `json:"name"`
			Type       string         `json:"type"`
			Durable    bool           `json:"durable"`
			AutoDelete bool           `json:"autoDelete"`
			Vhost      string         `json:"vhost"`
			Arguments  map[string]any `json:"arguments"`
			Cluster    clusterRef     `json:"rabbitmqClusterReference"`
		} `json:"spec"`
	}
	rmqBinding struct {
		Spec struct {
			Source          string         `json:"source"`
			Destination     string         `json:"destination"`
			DestinationType string         `json:"destinationType"`
			RoutingKey      string         `json:"routingKey"`
			Vhost           string         `json:"vhost"`
			Arguments       map[string]any `json:"arguments"`
			Cluster         clusterRef     `json:"rabbitmqClusterReference"`
		} `json:"spec"`
	}
)

// topoItem is one exchange, queue or binding in a comparable form: key
// identifies it, desc says everything that must match.
type topoItem struct {
	key, desc string
	queue     string // the queue of a queue or a binding
}

// canonValue renders an argument value with its type, so that 5 (an
// integer, as the code declares it) and "5" (a string) differ.
func canonValue(v any) string {
	switch v := v.(type) {
	case string:
		return "string " + strconv.Quote(v)
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "int " + v.String()
		}
		return "float " + v.String()
	case int:
		return "int " + strconv.Itoa(v)
	case int8, int16, int32, int64, uint8, uint16, uint32:
		return fmt.Sprintf("int %d", v)
	case bool:
		return "bool " + strconv.FormatBool(v)
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}

func canonArgs(args map[string]any) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + canonValue(args[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func exchangeItem(name, kind string, args map[string]any) topoItem {
	return topoItem{key: "exchange " + name, desc: fmt.Sprintf("exchange %s type %s arguments %s", name, kind, canonArgs(args))}
}

func queueItem(name string, args map[string]any) topoItem {
	return topoItem{key: "queue " + name, desc: fmt.Sprintf("queue %s arguments %s", name, canonArgs(args)), queue: name}
}

func bindingItem(source, queue, key string, args map[string]any) topoItem {
	d := fmt.Sprintf("binding %s → %s routing key %q arguments %s", source, queue, key, canonArgs(args))
	return topoItem{key: d, desc: d, queue: queue}
}

// declItems is the code's topology (bus.Declaration()) as items.
func declItems(t bus.Topology) []topoItem {
	var out []topoItem
	for _, e := range t.Exchanges {
		out = append(out, exchangeItem(e.Name, e.Kind, nil))
	}
	for _, q := range t.Queues {
		out = append(out, queueItem(q.Name, q.Args))
	}
	for _, b := range t.Bindings {
		out = append(out, bindingItem(b.Exchange, b.Queue, b.Key, b.Args))
	}
	return out
}

// manifestItems reads the Exchange, Queue and Binding objects as items,
// reporting what is wrong with them on their own (not durable, a binding
// to an exchange, a cluster reference to nothing).
func manifestItems(objs []Object) ([]topoItem, []string) {
	var out []topoItem
	var problems []string
	clusters := map[string]bool{}
	for _, o := range ofKind(objs, "rabbitmq.com/", "RabbitmqCluster") {
		clusters[o.Namespace+"/"+o.Name] = true
	}
	checkRef := func(o Object, r clusterRef, vhost string) {
		ns := r.Namespace
		if ns == "" {
			ns = o.Namespace
		}
		if r.ConnectionSecret != nil || !clusters[ns+"/"+r.Name] {
			problems = append(problems, fmt.Sprintf("%s: rabbitmqClusterReference names no RabbitmqCluster declared here (%s/%s)", o.ID(), ns, r.Name))
		}
		if vhost != "" && vhost != "/" {
			problems = append(problems, fmt.Sprintf("%s: vhost %q: the functions use the URL's vhost, /", o.ID(), vhost))
		}
	}
	for _, o := range ofKind(objs, "rabbitmq.com/", "Exchange") {
		var e rmqExchange
		if err := o.Decode(&e); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !e.Spec.Durable || e.Spec.AutoDelete {
			problems = append(problems, fmt.Sprintf("%s: must be durable and not auto-deleted, as the code declares it", o.ID()))
		}
		checkRef(o, e.Spec.Cluster, e.Spec.Vhost)
		out = append(out, exchangeItem(e.Spec.Name, e.Spec.Type, e.Spec.Arguments))
	}
	for _, o := range ofKind(objs, "rabbitmq.com/", "Queue") {
		var q rmqQueue
		if err := o.Decode(&q); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !q.Spec.Durable || q.Spec.AutoDelete {
			problems = append(problems, fmt.Sprintf("%s: must be durable and not auto-deleted, as the code declares it", o.ID()))
		}
		checkRef(o, q.Spec.Cluster, q.Spec.Vhost)
		args := map[string]any{}
		for k, v := range q.Spec.Arguments {
			args[k] = v
		}
		if q.Spec.Type != "" {
			if prev, ok := args[amqp.QueueTypeArg]; ok && canonValue(prev) != canonValue(q.Spec.Type) {
				problems = append(problems, fmt.Sprintf("%s: type %q and argument x-queue-type %v disagree", o.ID(), q.Spec.Type, prev))
			}
			args[amqp.QueueTypeArg] = q.Spec.Type
		}
		out = append(out, queueItem(q.Spec.Name, args))
	}
	for _, o := range ofKind(objs, "rabbitmq.com/", "Binding") {
		var b rmqBinding
		if err := o.Decode(&b); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if b.Spec.DestinationType != "queue" {
			problems = append(problems, fmt.Sprintf("%s: destinationType %q: the code binds queues only", o.ID(), b.Spec.DestinationType))
		}
		checkRef(o, b.Spec.Cluster, b.Spec.Vhost)
		out = append(out, bindingItem(b.Spec.Source, b.Spec.Destination, b.Spec.RoutingKey, b.Spec.Arguments))
	}
	return out, problems
}

// CheckTopology compares the topology objects with the code's declaration.
// With exact, they must be the same: nothing missing, nothing extra. Without
// it (the broker variant, which leaves out queues it does not drain) every
// object must still be one of the code's, with the same arguments; every
// exchange must be there; and a declared queue must have all its bindings.
func CheckTopology(objs []Object, decl bus.Topology, exact bool) []string {
	got, problems := manifestItems(objs)
	want := declItems(decl)
	wantByKey := map[string]topoItem{}
	for _, w := range want {
		wantByKey[w.key] = w
	}
	gotByKey := map[string]topoItem{}
	declaredQueues := map[string]bool{}
	for _, g := range got {
		if _, dup := gotByKey[g.key]; dup {
			problems = append(problems, "declared twice: "+g.key)
		}
		gotByKey[g.key] = g
		if strings.HasPrefix(g.key, "queue ") {
			declaredQueues[g.queue] = true
		}
		w, ok := wantByKey[g.key]
		switch {
		case !ok:
			problems = append(problems, "not in the code's topology (bus.Declaration): "+g.desc)
		case w.desc != g.desc:
			problems = append(problems, fmt.Sprintf("differs from the code: manifests have %s; the code declares %s", g.desc, w.desc))
		}
	}
	for _, w := range want {
		if _, ok := gotByKey[w.key]; ok {
			continue
		}
		needed := exact || strings.HasPrefix(w.key, "exchange ") || declaredQueues[w.queue]
		if needed {
			problems = append(problems, "missing from the manifests: "+w.desc)
		}
	}
	sort.Strings(problems)
	return problems
}

// declaredQueueNames lists the queues the topology objects declare.
func declaredQueueNames(objs []Object) map[string]bool {
	out := map[string]bool{}
	for _, o := range ofKind(objs, "rabbitmq.com/", "Queue") {
		var q rmqQueue
		if o.Decode(&q) == nil {
			out[q.Spec.Name] = true
		}
	}
	return out
}
