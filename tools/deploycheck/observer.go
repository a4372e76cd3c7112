package deploycheck

import (
	"fmt"
	"sort"
)

// Observer is a Service that the broker variant's Triggers give a copy of
// every event (the operations dashboard): one Trigger per event type,
// delivering to Path, with its own dead-letter sink on the same Service
// (DeadLetterPath) so that an event that cannot reach it never lands in
// notify's /dead, which would tell Odoo the document failed.
type Observer struct {
	Service        string
	Path           string
	DeadLetterPath string
}

// CheckObserver checks the observer's Triggers: exactly one per event type
// on the Broker, to Service Path, retried with the wiring's backoff policy
// and dead-lettered to DeadLetterPath.
func (v Variant) CheckObserver(brokerName string, w Wiring, eventTypes []string) []string {
	o := w.Observer
	if o.Service == "" {
		return nil
	}
	var problems []string
	want := Sink{Kind: "Service", Name: o.Service, Path: o.Path}
	dead := Sink{Kind: "Service", Name: o.Service, Path: o.DeadLetterPath}
	seen := map[string]bool{}
	for _, obj := range ofKind(v.Objects, "eventing.knative.dev/", "Trigger") {
		var t trigger
		if err := obj.Decode(&t); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		sub := sinkOf(t.Spec.Subscriber)
		if sub.Kind != "Service" || sub.Name != o.Service {
			continue
		}
		typ := t.Spec.Filter.Attributes["type"]
		switch {
		case sub != want:
			problems = append(problems, fmt.Sprintf("%s: subscriber %s, want %s", obj.ID(), sub, want))
		case len(t.Spec.Filter.Attributes) != 1 || typ == "":
			problems = append(problems, obj.ID()+": want a filter on the attribute type only")
		case seen[typ]:
			problems = append(problems, fmt.Sprintf("%s: a second Trigger of %s for %s", obj.ID(), o.Service, typ))
		}
		seen[typ] = true
		if t.Spec.Broker != brokerName {
			problems = append(problems, fmt.Sprintf("%s: broker %q, want %s", obj.ID(), t.Spec.Broker, brokerName))
		}
		d := t.Spec.Delivery
		if d.DeadLetterSink == nil {
			problems = append(problems, fmt.Sprintf("%s: no delivery.deadLetterSink: the Broker's (notify's /dead) would report the document as failed; want %s", obj.ID(), dead))
		} else if got := sinkOf(*d.DeadLetterSink); got != dead {
			problems = append(problems, fmt.Sprintf("%s: delivery.deadLetterSink is %s, want %s", obj.ID(), got, dead))
		}
		if d.BackoffPolicy != w.Delivery.Backoff {
			problems = append(problems, fmt.Sprintf("%s: delivery.backoffPolicy %q, want %s", obj.ID(), d.BackoffPolicy, w.Delivery.Backoff))
		}
	}
	for _, typ := range eventTypes {
		if !seen[typ] {
			problems = append(problems, fmt.Sprintf("%s variant: no Trigger gives %s to %s", v.Name, typ, o.Service))
		}
	}
	known := map[string]bool{}
	for _, typ := range eventTypes {
		known[typ] = true
	}
	for typ := range seen {
		if !known[typ] {
			problems = append(problems, fmt.Sprintf("%s variant: a Trigger of %s on %q, which is not one of events.Types", v.Name, o.Service, typ))
		}
	}
	sort.Strings(problems)
	return problems
}
