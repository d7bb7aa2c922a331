package httpapi

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/schedule"
)

// FuzzDeclareBody feeds arbitrary bodies to the declare decoder: it never
// panics, every refusal is an EINVALID naming a field, and what it accepts
// is a declaration the store can take (a one-line title, a real severity,
// a policy or rotation that exists, not both).
func FuzzDeclareBody(f *testing.F) {
	for _, seed := range []string{
		`{"title":"Checkout fails","severity":"critical","service":"payments","commander":"alice","escalation_policy":"ops"}`,
		`{"title":"x","severity":"info","rotation":"weekly"}`,
		`{"title":"x","severity":"info","rotation":"weekly","escalation_policy":"ops"}`,
		`{"title":"\u0000","severity":"critical"}`,
		`{"title":"x","severity":"critical"} trailing`,
		`{"title":["x"]}`,
		`null`, ``, `{}`, `{"title":"` + strings.Repeat("a", 600) + `","severity":"error"}`,
	} {
		f.Add([]byte(seed))
	}
	dir := &escalation.Directory{
		Policies:  map[string]*escalation.Policy{"ops": {ID: "ops"}},
		Rotations: map[string]*schedule.Rotation{"weekly": {}},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, d, err := decodeDeclare(body, dir)
		if err != nil {
			var e *alertgate.Error
			if alertgate.ErrorCode(err) != alertgate.EINVALID || !errors.As(err, &e) || e.Field == "" {
				t.Fatalf("refusal %v is not an EINVALID naming a field", err)
			}
			return
		}
		switch {
		case d.Title == "" || len(d.Title) > maxTitleLen || !utf8.ValidString(d.Title) || strings.ContainsAny(d.Title, "\r\n"):
			t.Fatalf("accepted title %q", d.Title)
		case d.Severity.Rank() == 0:
			t.Fatalf("accepted severity %q", d.Severity)
		case d.Policy != "" && d.Rotation != "":
			t.Fatalf("accepted a policy and a rotation")
		case d.Policy != "" && dir.Policies[d.Policy] == nil, d.Rotation != "" && dir.Rotations[d.Rotation] == nil:
			t.Fatalf("accepted an unknown policy or rotation: %+v", d)
		}
	})
}
