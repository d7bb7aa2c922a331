package alertgate_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
)

func validAlert() alertgate.Alert {
	return alertgate.Alert{Fingerprint: "f1", Status: alertgate.Firing, Source: "am",
		Labels: map[string]string{"alertname": "X"}, Summary: "x", Severity: alertgate.SeverityWarning}
}

func TestValidate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		mutate    func(*alertgate.Alert)
		wantField string // "" means valid
	}{
		{"valid", func(*alertgate.Alert) {}, ""},
		{"no fingerprint", func(a *alertgate.Alert) { a.Fingerprint = "" }, "fingerprint"},
		{"long fingerprint", func(a *alertgate.Alert) { a.Fingerprint = strings.Repeat("f", 256) }, "fingerprint"},
		{"bad status", func(a *alertgate.Alert) { a.Status = "pending" }, "status"},
		{"no source", func(a *alertgate.Alert) { a.Source = "" }, "source"},
		{"bad severity", func(a *alertgate.Alert) { a.Severity = "urgent" }, "severity"},
		{"long summary", func(a *alertgate.Alert) { a.Summary = strings.Repeat("s", 1025) }, "summary"},
		{"empty label name", func(a *alertgate.Alert) { a.Labels[""] = "v" }, "labels"},
		{"invalid UTF-8 label", func(a *alertgate.Alert) { a.Labels["k"] = "\xff" }, "labels"},
		{"invalid UTF-8 summary", func(a *alertgate.Alert) { a.Summary = "\xc3" }, "alert"},
		{"too many labels", func(a *alertgate.Alert) {
			for i := range alertgate.MaxLabels + 1 {
				a.Labels[fmt.Sprint(i)] = "v"
			}
		}, "labels"},
		{"firing ends before start", func(a *alertgate.Alert) { a.StartsAt, a.EndsAt = t0, t0.Add(-time.Second) }, "ends_at"},
		{"resolved ends before start is tolerated", func(a *alertgate.Alert) {
			a.Status, a.StartsAt, a.EndsAt = alertgate.Resolved, t0, t0.Add(-time.Second)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := validAlert()
			tt.mutate(&a)
			err := a.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if err == nil || alertgate.ErrorCode(err) != alertgate.EINVALID || !strings.HasPrefix(err.Error(), tt.wantField) {
				t.Fatalf("got %v, want an invalid error about %s", err, tt.wantField)
			}
		})
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]alertgate.Severity{
		"critical": alertgate.SeverityCritical, " P1 ": alertgate.SeverityCritical, "ERROR": alertgate.SeverityError,
		"warn": alertgate.SeverityWarning, "info": alertgate.SeverityInfo, "low": alertgate.SeverityInfo,
	} {
		if got, ok := alertgate.ParseSeverity(in); !ok || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := alertgate.ParseSeverity("purple"); ok {
		t.Error("ParseSeverity accepted an unknown word")
	}
	if !(alertgate.SeverityCritical.Rank() > alertgate.SeverityError.Rank() &&
		alertgate.SeverityError.Rank() > alertgate.SeverityWarning.Rank() &&
		alertgate.SeverityWarning.Rank() > alertgate.SeverityInfo.Rank() &&
		alertgate.SeverityInfo.Rank() > alertgate.Severity("x").Rank()) {
		t.Error("severity ranks are out of order")
	}
}

func TestTruncateKeepsUTF8(t *testing.T) {
	s := "ab€" // € is three bytes
	for n := range len(s) + 2 {
		got := alertgate.Truncate(s, n)
		if len(got) > n || !strings.HasPrefix(s, got) {
			t.Fatalf("Truncate(%q, %d) = %q", s, n, got)
		}
	}
	if got := alertgate.Truncate(s, 4); got != "ab" {
		t.Fatalf("Truncate cut into a rune: %q", got)
	}
}

func TestErrors(t *testing.T) {
	cause := errors.New("dial tcp: refused")
	err := fmt.Errorf("ingest: %w", alertgate.Unavailable("redis unavailable", cause))
	if alertgate.ErrorCode(err) != alertgate.EUNAVAILABLE || alertgate.ErrorMessage(err) != "redis unavailable" || !errors.Is(err, cause) {
		t.Fatalf("wrapped unavailable error: code %s message %q", alertgate.ErrorCode(err), alertgate.ErrorMessage(err))
	}
	plain := errors.New("boom")
	if alertgate.ErrorCode(plain) != alertgate.EINTERNAL || alertgate.ErrorMessage(plain) != "internal error" {
		t.Fatal("a plain error must map to internal without leaking its text")
	}
	fe := alertgate.FieldErrorf("alerts[0].status", "%q is not firing or resolved", "x")
	if fe.Field != "alerts[0].status" || !strings.HasPrefix(fe.Message, "alerts[0].status: ") {
		t.Fatalf("field error %+v", fe)
	}
}
