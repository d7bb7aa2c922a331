package receivers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/alertgate/alertgate/config"
)

// amBenchBody is an Alertmanager notification with n alerts shaped like
// the ones Alertmanager 0.25 sent in testdata/alertmanager.
func amBenchBody(n int) []byte { return amBenchBodyFP(n, true) }

// amBenchBodyFP is amBenchBody; withFP false leaves every fingerprint
// empty, so that the receiver computes it from the labels.
func amBenchBodyFP(n int, withFP bool) []byte {
	var sb strings.Builder
	sb.WriteString(`{"receiver":"hook","status":"firing","alerts":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fp := ""
		if withFP {
			fp = fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)
		}
		fmt.Fprintf(&sb, `{"status":"firing","labels":{"alertname":"ProbeFailure","cluster":"eu1","instance":"https://api-%d.example.org","job":"blackbox","severity":"critical"},`+
			`"annotations":{"description":"Probe of https://api-%d.example.org has failed for 5 minutes","summary":"BlackBox Probe Failure"},`+
			`"startsAt":"2026-11-25T21:24:35.628127647Z","endsAt":"0001-01-01T00:00:00Z",`+
			`"generatorURL":"http://prometheus.example.org:9090/graph?g0.expr=probe_success+%%3D%%3D+0\u0026g0.tab=1","fingerprint":"%s"}`, i, i, fp)
	}
	sb.WriteString(`],"groupLabels":{"alertname":"ProbeFailure","cluster":"eu1"},"commonLabels":{"alertname":"ProbeFailure","cluster":"eu1","severity":"critical"},` +
		`"commonAnnotations":{},"externalURL":"http://alertmanager.example.org:9093","version":"4",` +
		`"groupKey":"{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\", cluster=\"eu1\"}","truncatedAlerts":0}`)
	return []byte(sb.String())
}

func benchmarkAlertmanager(b *testing.B, body []byte, n int) {
	r := mustNew(b, testIntegration(config.TypeAlertmanager))
	req := Request{Body: body, Now: testNow}
	ctx := b.Context()
	if batch, err := r.Parse(ctx, req); err != nil || len(batch.Alerts) != n {
		b.Fatalf("Parse: %d alerts, %v", len(batch.Alerts), err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Parse(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "alerts/s")
}

func BenchmarkAlertmanager100(b *testing.B) { benchmarkAlertmanager(b, amBenchBody(100), 100) }
func BenchmarkAlertmanager1(b *testing.B)   { benchmarkAlertmanager(b, amBenchBody(1), 1) }

// The same bodies without fingerprints: the receiver computes each one from
// the labels, as for a sender that leaves fingerprint empty.
func BenchmarkAlertmanagerComputedFP100(b *testing.B) {
	benchmarkAlertmanager(b, amBenchBodyFP(100, false), 100)
}
func BenchmarkAlertmanagerComputedFP1(b *testing.B) {
	benchmarkAlertmanager(b, amBenchBodyFP(1, false), 1)
}

// BenchmarkLabelsFingerprint is the fingerprint of one alert's labels alone.
func BenchmarkLabelsFingerprint(b *testing.B) {
	labels := map[string]string{
		"alertname": "ProbeFailure", "cluster": "eu1", "instance": "https://api-7.example.org",
		"job": "blackbox", "severity": "critical",
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = labelsFingerprint(labels)
	}
}

// BenchmarkAMDecode decodes the same Alertmanager body with the fast
// decoder and with plain encoding/json (what decodeAlertmanager falls back
// to). Compare with: benchstat -col /decoder.
func BenchmarkAMDecode(b *testing.B) {
	for _, n := range []int{1, 100} {
		body, kind, err := prepareBody(amBenchBody(n))
		if err != nil || kind != '{' {
			b.Fatalf("prepareBody: %v", err)
		}
		var fast grafanaMessage
		if !decodeAMFast(body, &fast, false) {
			b.Fatal("the fast decoder gave up")
		}
		var slow amMessage
		if err := json.Unmarshal(body, &slow); err != nil {
			b.Fatal(err)
		}
		if len(fast.Alerts) != n || len(slow.Alerts) != n || fast.amEnvelope != slow.amEnvelope ||
			!reflect.DeepEqual(fast.Alerts[n-1].amAlert, slow.Alerts[n-1]) {
			b.Fatal("the decoders differ")
		}
		b.Run(fmt.Sprintf("alerts=%d/decoder=fast", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var m grafanaMessage
				if !decodeAMFast(body, &m, false) {
					b.Fatal("gave up")
				}
			}
		})
		b.Run(fmt.Sprintf("alerts=%d/decoder=encoding-json", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var m amMessage
				if err := json.Unmarshal(body, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
