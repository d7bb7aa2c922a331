package receivers

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

var update = flag.Bool("update", false, "rewrite testdata/*/*.golden.json from the receivers' output")

var receiverTypes = []string{
	config.TypeAlertmanager,
	config.TypeGrafana,
	config.TypeDatadog,
	config.TypeGeneric,
	config.TypePagerDuty,
}

// goldenBatch is how a batch is written to a golden file.
type goldenBatch struct {
	Alerts      []alertgate.Alert `json:"alerts"`
	Acknowledge []string          `json:"acknowledge,omitempty"`
	Truncated   int               `json:"truncated,omitempty"`
}

// payloads lists testdata/<typ>/*.json, golden files excluded.
func payloads(tb testing.TB, typ string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", typ, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden.json") {
			out = append(out, f)
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, typ := range receiverTypes {
		in := testIntegration(typ)
		r := mustNew(t, in)
		files := payloads(t, typ)
		if len(files) == 0 {
			t.Fatalf("no payloads in testdata/%s", typ)
		}
		for _, file := range files {
			t.Run(strings.TrimPrefix(file, "testdata/"), func(t *testing.T) {
				body, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				b, err := parse(t, r, body, nil)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				checkBatch(t, in, b)
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(goldenBatch{b.Alerts, b.Acknowledge, b.Truncated}); err != nil {
					t.Fatal(err)
				}
				got := buf.Bytes()
				golden := strings.TrimSuffix(file, ".json") + ".golden.json"
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("output differs from %s (go test -update rewrites it); got:\n%s", golden, got)
				}
			})
		}
	}
}

// The recommended Datadog payload must stay valid JSON and name every field
// the receiver reads.
func TestDatadogPayloadTemplate(t *testing.T) {
	body, err := os.ReadFile("datadog_payload.json")
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]string
	if err := json.Unmarshal(body, &tmpl); err != nil {
		t.Fatalf("datadog_payload.json: %v", err)
	}
	src, err := os.ReadFile("datadog.go")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range tmpl {
		if !strings.HasPrefix(v, "$") {
			t.Errorf("%s = %q: want a Datadog $VARIABLE", k, v)
		}
		if line := `//	  "` + k + `": "` + v + `"`; !bytes.Contains(src, []byte(line)) {
			t.Errorf("datadog.go doc comment lacks %s", line)
		}
		if !bytes.Contains(src, []byte(`json:"`+k+`"`)) {
			t.Errorf("ddEvent has no field for %q", k)
		}
	}
	// The template itself, as a test notification would send it, is
	// refused with a message that says why.
	_, err = parse(t, mustNew(t, testIntegration(config.TypeDatadog)), body, nil)
	if ae := checkErr(t, err); ae.Field != "transition" || !strings.Contains(ae.Message, "not expanded") {
		t.Errorf("template body: got %q, want a transition error about expansion", ae.Message)
	}
}
