package receivers

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// testNow is the clock of every test request.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const testRoutingKey = "R0UT1NGKEY0000000000000000000001"

// testMapping is the generic mapping of testdata/generic (and of the
// example in generic.go).
func testMapping() *config.GenericMapping {
	return &config.GenericMapping{
		Alerts:         "events",
		DedupKey:       "id",
		Summary:        "title",
		Severity:       "level",
		Status:         "state",
		ResolvedValues: []string{"ok", "resolved"},
		Labels:         map[string]string{"host": "source.host"},
		LabelsFrom:     "tags",
		Annotations:    map[string]string{"runbook": "runbook_url"},
		GroupKey:       "check",
		Link:           "url",
	}
}

// testIntegration is the integration the tests use for each type.
func testIntegration(typ string) config.Integration {
	in := config.Integration{
		Name:    typ + "-test",
		Type:    typ,
		Service: "default-service",
		Labels:  map[string]string{"env": "integration-default", "gateway": "alertgate"},
	}
	switch typ {
	case config.TypePagerDuty:
		in.RoutingKeys = []config.Secret{testRoutingKey}
	case config.TypeGeneric:
		in.Generic = testMapping()
	}
	return in
}

func mustNew(tb testing.TB, in config.Integration) Receiver {
	tb.Helper()
	r, err := New(in)
	if err != nil {
		tb.Fatalf("New(%s): %v", in.Name, err)
	}
	return r
}

func parse(tb testing.TB, r Receiver, body []byte, header http.Header) (alertgate.Batch, error) {
	tb.Helper()
	return r.Parse(tb.Context(), Request{Body: body, Header: header, Now: testNow})
}

// checkBatch asserts the receiver contract on a successful parse: every
// alert passes Validate, has Source set and marshals to JSON.
func checkBatch(tb testing.TB, in config.Integration, b alertgate.Batch) {
	tb.Helper()
	for i := range b.Alerts {
		a := &b.Alerts[i]
		if err := a.Validate(); err != nil {
			tb.Fatalf("alerts[%d] %s: Validate: %v", i, a, err)
		}
		if got, want := a.Source, in.Name; got != want {
			tb.Fatalf("alerts[%d].Source = %q, want %q", i, got, want)
		}
		if _, err := json.Marshal(a); err != nil {
			tb.Fatalf("alerts[%d]: json.Marshal: %v", i, err)
		}
	}
	for i, k := range b.Acknowledge {
		if k == "" || len(k) > alertgate.MaxFingerprintLen {
			tb.Fatalf("acknowledge[%d] = %q: bad key", i, k)
		}
	}
	if b.Truncated < 0 {
		tb.Fatalf("Truncated = %d", b.Truncated)
	}
}

// checkErr asserts the receiver contract on a failed parse: an
// *alertgate.Error with code EINVALID or EUNAUTHORIZED.
func checkErr(tb testing.TB, err error) *alertgate.Error {
	tb.Helper()
	var ae *alertgate.Error
	if !errors.As(err, &ae) {
		tb.Fatalf("error %v (%T) is not an *alertgate.Error", err, err)
	}
	if ae.Code != alertgate.EINVALID && ae.Code != alertgate.EUNAUTHORIZED {
		tb.Fatalf("error %q has code %q, want invalid or unauthorized", ae.Message, ae.Code)
	}
	if ae.Code == alertgate.EINVALID && (ae.Field == "" || !strings.HasPrefix(ae.Message, ae.Field)) {
		tb.Fatalf("error %q does not name its field (Field %q)", ae.Message, ae.Field)
	}
	return ae
}

func readTestdata(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}
