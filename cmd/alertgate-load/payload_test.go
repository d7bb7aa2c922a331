package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

type testAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type testNotification struct {
	Version      string            `json:"version"`
	GroupKey     string            `json:"groupKey"`
	Status       string            `json:"status"`
	Receiver     string            `json:"receiver"`
	GroupLabels  map[string]string `json:"groupLabels"`
	CommonLabels map[string]string `json:"commonLabels"`
	Alerts       []testAlert       `json:"alerts"`
}

// refFingerprint is an independent Alertmanager-style label fingerprint:
// FNV-1a 64 over sorted names and values, each followed by 0xff.
func refFingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	slices.Sort(names)
	h := fnv.New64a()
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func mustPayloads(t *testing.T, spec payloadSpec) *payloads {
	t.Helper()
	p, err := newPayloads(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeBody(t *testing.T, p *payloads, k int64) testNotification {
	t.Helper()
	body := p.appendBody(nil, k)
	if !json.Valid(body) {
		t.Fatalf("request %d: invalid JSON: %s", k, body)
	}
	var n testNotification
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatalf("request %d: %v", k, err)
	}
	return n
}

var hex16re = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestBodyShape(t *testing.T) {
	p := mustPayloads(t, payloadSpec{Batch: 5, Groups: 3})
	for k := range int64(12) {
		n := decodeBody(t, p, k)
		group := fmt.Sprintf("Load%d", k%3)
		if n.Version != "4" || n.Status != "firing" || n.Receiver == "" {
			t.Errorf("request %d: envelope %+v", k, n)
		}
		if want := `{}:{alertname="` + group + `"}`; n.GroupKey != want {
			t.Errorf("request %d: groupKey %q, want %q", k, n.GroupKey, want)
		}
		if n.GroupLabels["alertname"] != group || n.CommonLabels["alertname"] != group {
			t.Errorf("request %d: group labels %v, common labels %v", k, n.GroupLabels, n.CommonLabels)
		}
		if len(n.Alerts) != 5 {
			t.Fatalf("request %d: %d alerts, want 5", k, len(n.Alerts))
		}
		for i, a := range n.Alerts {
			if len(a.Labels) != 3 || a.Labels["alertname"] != group || a.Labels["severity"] != "warning" ||
				!strings.HasPrefix(a.Labels["instance"], "i-") {
				t.Errorf("request %d alert %d: labels %v", k, i, a.Labels)
			}
			if a.Status != "firing" || a.EndsAt != "0001-01-01T00:00:00Z" {
				t.Errorf("request %d alert %d: status %q endsAt %q", k, i, a.Status, a.EndsAt)
			}
			if _, err := time.Parse(time.RFC3339, a.StartsAt); err != nil {
				t.Errorf("request %d alert %d: startsAt: %v", k, i, err)
			}
			if !hex16re.MatchString(a.Fingerprint) {
				t.Errorf("request %d alert %d: fingerprint %q is not 16 hex digits", k, i, a.Fingerprint)
			}
			if want := refFingerprint(a.Labels); a.Fingerprint != want {
				t.Errorf("request %d alert %d: fingerprint %s, want %s for %v", k, i, a.Fingerprint, want, a.Labels)
			}
		}
	}
}

func TestBodiesAreStable(t *testing.T) {
	spec := payloadSpec{Batch: 7, Groups: 4, Resolve: 0.3}
	a, b := mustPayloads(t, spec), mustPayloads(t, spec)
	for k := range int64(50) {
		if x, y := a.appendBody(nil, k), b.appendBody([]byte("junk"), k); string(x) != string(y[4:]) {
			t.Fatalf("request %d: bodies differ:\n%s\n%s", k, x, y[4:])
		}
	}
}

// With no -alerts limit every alert of every request is new, and the
// alerts spread evenly over the groups: the storm shape.
func TestEveryAlertDistinct(t *testing.T) {
	const batch, groups, requests = 10, 7, 350
	p := mustPayloads(t, payloadSpec{Batch: batch, Groups: groups})
	seen := map[string]bool{}
	perGroup := map[string]int{}
	for k := range int64(requests) {
		for _, a := range decodeBody(t, p, k).Alerts {
			if seen[a.Fingerprint] {
				t.Fatalf("request %d: alert %v sent twice", k, a.Labels)
			}
			seen[a.Fingerprint] = true
			perGroup[a.Labels["alertname"]]++
		}
	}
	if len(seen) != batch*requests {
		t.Errorf("%d distinct alerts, want %d", len(seen), batch*requests)
	}
	if len(perGroup) != groups {
		t.Errorf("%d groups, want %d", len(perGroup), groups)
	}
	for g, n := range perGroup {
		if n != batch*requests/groups {
			t.Errorf("group %s: %d alerts, want %d", g, n, batch*requests/groups)
		}
	}
}

func TestAlertsCycle(t *testing.T) {
	const alerts = 26 // not a multiple of the groups
	p := mustPayloads(t, payloadSpec{Batch: 3, Groups: 4, Alerts: alerts})
	seen := map[string]bool{}
	for k := range int64(200) {
		inRequest := map[string]bool{}
		for _, a := range decodeBody(t, p, k).Alerts {
			if inRequest[a.Fingerprint] {
				t.Fatalf("request %d repeats alert %v", k, a.Labels)
			}
			inRequest[a.Fingerprint] = true
			seen[a.Labels["instance"]] = true
		}
	}
	if len(seen) != alerts {
		t.Errorf("%d distinct alerts, want %d: %v", len(seen), alerts, seen)
	}
	for n := range alerts {
		if !seen[fmt.Sprintf("i-%d", n)] {
			t.Errorf("alert i-%d never sent", n)
		}
	}
}

func TestResolve(t *testing.T) {
	const groups, requests = 4, 400
	p := mustPayloads(t, payloadSpec{Batch: 2, Groups: groups, Resolve: 0.25})
	fired := map[string]string{} // fingerprint → group
	resolving := 0
	for k := range int64(requests) {
		n := decodeBody(t, p, k)
		if n.Status == "firing" {
			for _, a := range n.Alerts {
				fired[a.Fingerprint] = a.Labels["alertname"]
			}
			continue
		}
		resolving++
		if n.Status != "resolved" {
			t.Fatalf("request %d: status %q", k, n.Status)
		}
		for _, a := range n.Alerts {
			if a.Status != "resolved" || a.EndsAt == "0001-01-01T00:00:00Z" {
				t.Errorf("request %d: resolved alert with status %q endsAt %q", k, a.Status, a.EndsAt)
			}
			if g, ok := fired[a.Fingerprint]; !ok || g != a.Labels["alertname"] {
				t.Errorf("request %d resolves %v, which its group never fired", k, a.Labels)
			}
		}
	}
	if resolving != requests/4 {
		t.Errorf("%d resolving requests, want %d", resolving, requests/4)
	}

	all := mustPayloads(t, payloadSpec{Batch: 1, Groups: 2, Resolve: 1})
	for k := range int64(10) {
		if n := decodeBody(t, all, k); n.Status != "resolved" {
			t.Errorf("-resolve 1: request %d is %s", k, n.Status)
		}
	}
}

func TestPayloadSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		spec payloadSpec
		ok   bool
	}{
		{payloadSpec{Batch: 1, Groups: 1}, true},
		{payloadSpec{Batch: 100, Groups: 20, Alerts: 2000}, true},
		{payloadSpec{Batch: 100, Groups: 20, Alerts: 1999}, false},
		{payloadSpec{Batch: 0, Groups: 1}, false},
		{payloadSpec{Batch: 1, Groups: 0}, false},
		{payloadSpec{Batch: 1, Groups: 1, Alerts: -1}, false},
		{payloadSpec{Batch: 1, Groups: 1, Resolve: 1.5}, false},
		{payloadSpec{Batch: 1, Groups: 1, Resolve: -0.1}, false},
	} {
		if err := tc.spec.validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: err %v, want ok=%v", tc.spec, err, tc.ok)
		}
	}
}
