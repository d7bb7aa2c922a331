package dedupe

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
)

// TestAlertStartsAt: the scan finds what encoding/json finds, whatever
// the labels, annotations and details hold.
func TestAlertStartsAt(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 59, 30, 123e6, time.FixedZone("x", 3600))
	tricky := map[string]string{"starts_at": "2020-01-01T00:00:00Z", `"starts_at":"`: `{"starts_at":"1999-01-01T00:00:00Z"}`, "q": `\"}]{[`}
	for _, a := range []alertgate.Alert{
		{Fingerprint: "plain", StartsAt: start},
		{Fingerprint: "none"},
		{Fingerprint: "tricky", Labels: tricky, Annotations: tricky, Details: tricky, Summary: `"starts_at":"2001-01-01T00:00:00Z"`, StartsAt: start},
		{Fingerprint: "tricky-none", Labels: tricky, Details: tricky},
	} {
		body, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := alertStartsAt(string(body))
		if err != nil || !got.Equal(a.StartsAt) {
			t.Errorf("%s: %v %v, want %v", a.Fingerprint, got, err, a.StartsAt)
		}
	}
	for _, bad := range []string{`{"starts_at":"yesterday"}`, `{"starts_at":12}`, `{"a":"unterminated`} {
		if _, err := alertStartsAt(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// FuzzAlertStartsAt: on any JSON object encoding/json reads, the scan
// agrees with it.
func FuzzAlertStartsAt(f *testing.F) {
	f.Add(`{"starts_at":"2026-11-02T10:00:00Z","labels":{"starts_at":"x"}}`)
	f.Add(`{"labels":{"a":"\"starts_at\":\"2026"},"starts_at" : "2026-11-02T10:00:00.5+01:00"}`)
	f.Add(`{"x":[{"starts_at":"2026-11-02T10:00:00Z"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var want struct {
			StartsAt time.Time `json:"starts_at"`
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(body), &obj) != nil || json.Unmarshal([]byte(body), &want) != nil {
			return
		}
		if _, dup := obj["starts_at"]; !dup {
			// encoding/json matches keys case-insensitively; stored
			// alerts have the one spelling.
			for k := range obj {
				if k != "starts_at" && len(k) == len("starts_at") {
					return
				}
			}
		}
		got, err := alertStartsAt(body)
		if err != nil || !got.Equal(want.StartsAt) {
			t.Errorf("%s: %v %v, want %v", body, got, err, want.StartsAt)
		}
	})
}

func TestAlertStartsAtLastWins(t *testing.T) {
	got, err := alertStartsAt(`{"starts_at":"2020-01-01T00:00:00Z", "x":"starts_at", "starts_at" :"2026-11-02T10:00:00Z"}`)
	if want := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("got %v %v, want %v (the last, as encoding/json)", got, err, want)
	}
}
