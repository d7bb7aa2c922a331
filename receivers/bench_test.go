package receivers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/alertgate/alertgate/config"
)

// amBenchBody is an Alertmanager notification with n alerts shaped like
// the ones Alertmanager 0.25 sent in testdata/alertmanager.
func amBenchBody(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"receiver":"hook","status":"firing","alerts":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"status":"firing","labels":{"alertname":"ProbeFailure","cluster":"eu1","instance":"https://api-%d.example.org","job":"blackbox","severity":"critical"},`+
			`"annotations":{"description":"Probe of https://api-%d.example.org has failed for 5 minutes","summary":"BlackBox Probe Failure"},`+
			`"startsAt":"2026-11-25T21:24:35.628127647Z","endsAt":"0001-01-01T00:00:00Z",`+
			`"generatorURL":"http://prometheus.example.org:9090/graph?g0.expr=probe_success+%%3D%%3D+0\u0026g0.tab=1","fingerprint":"%016x"}`, i, i, uint64(i)*0x9e3779b97f4a7c15)
	}
	sb.WriteString(`],"groupLabels":{"alertname":"ProbeFailure","cluster":"eu1"},"commonLabels":{"alertname":"ProbeFailure","cluster":"eu1","severity":"critical"},` +
		`"commonAnnotations":{},"externalURL":"http://alertmanager.example.org:9093","version":"4",` +
		`"groupKey":"{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\", cluster=\"eu1\"}","truncatedAlerts":0}`)
	return []byte(sb.String())
}

func benchmarkAlertmanager(b *testing.B, n int) {
	r := mustNew(b, testIntegration(config.TypeAlertmanager))
	body := amBenchBody(n)
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

func BenchmarkAlertmanager100(b *testing.B) { benchmarkAlertmanager(b, 100) }
func BenchmarkAlertmanager1(b *testing.B)   { benchmarkAlertmanager(b, 1) }
