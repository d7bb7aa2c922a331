package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestEveryFieldDecodes walks the whole Config type with reflect, builds a
// YAML value for every field (every list element, map value and pointee
// included) and decodes it: the loader must take every field kind Config
// uses. A field of a kind it does not know fails here, not on a SIGHUP.
func TestEveryFieldDecodes(t *testing.T) {
	root := reflect.TypeFor[Config]()
	if err := decodable(root); err != nil {
		t.Fatalf("decodable(Config): %v", err)
	}

	var leaves []string
	doc := sampleValue(t, root, "Config", map[reflect.Type]bool{}, &leaves)
	data, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	n, err := parseYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	l := &loader{getenv: func(string) string { return "" }, lines: map[string]int{}, bad: map[string]bool{}}
	var c Config
	l.decode(n, reflect.ValueOf(&c).Elem(), "", 1)
	if len(l.ps.list) > 0 {
		t.Fatalf("decoding a value for every field:\n%s\n%v", data, (&l.ps).err(""))
	}
	// The decoded config holds what was written, as a spot check that the
	// walk reached the nested fields.
	if c.Integrations[0].Signature.MaxSkew != time.Second || c.Routes[0].ReopenWindow == nil || c.Integrations[0].Generic.Labels["k"] != "x" ||
		c.EscalationPolicies[0].Repeat != 1 || c.EscalationPolicies[0].Steps[0].Targets[0].Rotation != "x" {
		t.Errorf("decoded %+v", c)
	}
	t.Logf("decoded %d leaf fields: %s", len(leaves), strings.Join(leaves, ", "))
}

// sampleValue returns a YAML-marshallable value for type t, walking its
// fields with reflect, and records the Go path of every leaf. Kinds it
// does not know fail the test: extend both it and the loader.
func sampleValue(t *testing.T, typ reflect.Type, at string, seen map[reflect.Type]bool, leaves *[]string) any {
	t.Helper()
	if typ == reflect.TypeFor[time.Duration]() {
		*leaves = append(*leaves, at)
		return "1s"
	}
	switch typ.Kind() {
	case reflect.Pointer:
		return sampleValue(t, typ.Elem(), at, seen, leaves)
	case reflect.Struct:
		if seen[typ] {
			return map[string]any{}
		}
		seen[typ] = true
		defer delete(seen, typ)
		m := map[string]any{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			m[name] = sampleValue(t, f.Type, at+"."+f.Name, seen, leaves)
		}
		return m
	case reflect.Slice:
		return []any{sampleValue(t, typ.Elem(), at+"[]", seen, leaves)}
	case reflect.Map:
		if typ.Key().Kind() != reflect.String {
			t.Errorf("%s: map with %s keys: the loader takes string keys only", at, typ.Key().Kind())
			return nil
		}
		return map[string]any{"k": sampleValue(t, typ.Elem(), at+"[k]", seen, leaves)}
	case reflect.String:
		*leaves = append(*leaves, at)
		return "x"
	case reflect.Bool:
		*leaves = append(*leaves, at)
		return true
	case reflect.Int, reflect.Int64:
		*leaves = append(*leaves, at)
		return 1
	}
	t.Errorf("%s: field of kind %s (%s): teach the loader (kindOf, decodeValue) and this test to decode it", at, typ.Kind(), typ)
	return nil
}

// unsupportedFields is a config section of kinds the loader does not know.
type unsupportedFields struct {
	Count  uint           `yaml:"count"`
	Ratio  float64        `yaml:"ratio"`
	ByCode map[int]string `yaml:"by_code"`
	Nested struct {
		Ch chan int `yaml:"ch"`
	} `yaml:"nested"`
	Fine string `yaml:"fine"`
}

// A field of a kind the loader does not know is a problem with its line,
// never a panic: a config reload must not take the process down.
func TestDecodeUnsupportedKind(t *testing.T) {
	typ := reflect.TypeFor[unsupportedFields]()
	err := decodable(typ)
	if err == nil || !strings.Contains(err.Error(), "unsupportedFields.Count") || !strings.Contains(err.Error(), "uint") {
		t.Errorf("decodable = %v, want an error naming Count", err)
	}
	for _, tt := range []struct {
		typ  reflect.Type
		want string
	}{
		{reflect.TypeFor[[]float64](), "[elem]: the config loader cannot decode into float64"},
		{reflect.TypeFor[map[int]string](), "a map with int keys"},
		{reflect.TypeFor[*struct {
			X uint `yaml:"x"`
		}](), ".X: the config loader cannot decode into uint"},
		{reflect.TypeFor[struct {
			Skipped int `yaml:"-"`
			Kept    string
		}](), ""}, // fields without a yaml name are never decoded
	} {
		err := decodable(tt.typ)
		if got := fmt.Sprint(err); (tt.want == "") != (err == nil) || !strings.Contains(got, tt.want) {
			t.Errorf("decodable(%s) = %v, want %q", tt.typ, err, tt.want)
		}
	}

	data := []byte("count: 3\nratio: 0.5\nby_code: {404: missing}\nnested:\n  ch: 1\nfine: yes\n")
	n, err := parseYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	l := &loader{getenv: func(string) string { return "" }, lines: map[string]int{}, bad: map[string]bool{}}
	var v unsupportedFields
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("decode panicked: %v", r)
			}
		}()
		l.decode(n, reflect.ValueOf(&v).Elem(), "", 1)
	}()
	var got []string
	for _, p := range l.ps.list {
		got = append(got, p.String())
	}
	want := []string{
		"line 1: count: the config loader cannot decode into uint (uint); this is a bug in alertgate",
		"line 2: ratio: the config loader cannot decode into float64 (float64); this is a bug in alertgate",
		"line 3: by_code: the config loader cannot decode into map[int]string (a map with int keys); this is a bug in alertgate",
		"line 5: nested.ch: the config loader cannot decode into chan int (chan); this is a bug in alertgate",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v.Fine != "yes" {
		t.Errorf("fine = %q: the supported field next to them was not decoded", v.Fine)
	}
}

// The limits of alertgate.Alert.Validate hold for what the config adds to
// every alert, each problem on its line.
func TestValidateLabelLimits(t *testing.T) {
	many := func(n int, value string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "      l%d: %s\n", i, value)
		}
		return b.String()
	}
	long := strings.Repeat("n", 257)
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"name of 257 bytes", "labels:\n      " + long + ": v\n", ":8: integrations[0].labels." + long + ": name is 257 bytes, longer than the limit of 256"},
		{"value of 4097 bytes", "labels:\n      team: " + strings.Repeat("v", 4097) + "\n", ":8: integrations[0].labels.team: value is 4097 bytes, longer than the limit of 4096"},
		{"257 labels", "labels:\n" + many(257, "v"), ":7: integrations[0].labels: 257 labels, more than the limit of 256"},
		{"generic label name", "generic:\n      dedup_key: id\n      labels:\n        " + long + ": a.b\n", ":10: integrations[0].generic.labels." + long + ": name is 257 bytes"},
		{"generic annotations", "generic:\n      dedup_key: id\n      annotations:\n" + indent(many(257, "a.b")), ":9: integrations[0].generic.annotations: 257 annotations, more than the limit of 256"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			typ := "alertmanager"
			if strings.HasPrefix(tt.yaml, "generic:") {
				typ = "generic"
			}
			doc := "api:\n  tokens: [t]\nintegrations:\n  - name: x\n    type: " + typ + "\n    tokens: [t]\n    " + tt.yaml
			_, err := LoadEnv([]byte(doc), "cfg.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), "cfg.yaml"+tt.want) {
				t.Errorf("got %v\nwant %s", err, tt.want)
			}
		})
	}
	// At the limits everything is fine.
	doc := "integrations:\n  - name: x\n    type: alertmanager\n    tokens: [t]\n    labels:\n" + many(255, "v") +
		"      " + strings.Repeat("n", 256) + ": " + strings.Repeat("v", 4096) + "\n"
	if _, err := LoadEnv([]byte(doc), "cfg.yaml", nil); err != nil {
		t.Errorf("labels at the limits: %v", err)
	}
}

// indent moves every line of s two more spaces in.
func indent(s string) string {
	return strings.ReplaceAll(s, "      ", "        ")
}

// Whole numbers decode into int and int64 within the range of each, so a
// value never wraps around into a different one.
func TestDecodeInts(t *testing.T) {
	type ints struct {
		Small int   `yaml:"small"`
		Big   int64 `yaml:"big"`
	}
	for _, tt := range []struct {
		yaml      string
		want      ints
		wantError string
	}{
		{yaml: "small: 7\nbig: -9223372036854775808", want: ints{Small: 7, Big: -1 << 63}},
		{yaml: "small: 0x10\nbig: 1_000", want: ints{Small: 16, Big: 1000}},
		{yaml: `small: "3"`, want: ints{Small: 3}},
		{yaml: "big: 9223372036854775808", wantError: `line 1: big: "9223372036854775808" is too large a number`},
		{yaml: "small: 1.5", wantError: `line 1: small: "1.5" is not a whole number`},
		{yaml: "small: [1]", wantError: `line 1: small: expected a whole number, got a list`},
	} {
		n, err := parseYAML([]byte(tt.yaml))
		if err != nil {
			t.Fatal(err)
		}
		l := &loader{getenv: func(string) string { return "" }, lines: map[string]int{}, bad: map[string]bool{}}
		var got ints
		l.decode(n, reflect.ValueOf(&got).Elem(), "", 1)
		var problems []string
		for _, p := range l.ps.list {
			problems = append(problems, p.String())
		}
		if gotErr := strings.Join(problems, "\n"); gotErr != tt.wantError {
			t.Errorf("%q: problems %q, want %q", tt.yaml, gotErr, tt.wantError)
		}
		if tt.wantError == "" && got != tt.want {
			t.Errorf("%q: decoded %+v, want %+v", tt.yaml, got, tt.want)
		}
	}
}
