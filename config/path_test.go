package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want []pathSeg
		str  string // canonical String()
	}{
		{"a", []pathSeg{{key: "a", index: -1}}, "a"},
		{"alert.labels.host", []pathSeg{{key: "alert", index: -1}, {key: "labels", index: -1}, {key: "host", index: -1}}, "alert.labels.host"},
		{"items[0].id", []pathSeg{{key: "items", index: -1}, {index: 0}, {key: "id", index: -1}}, "items[0].id"},
		{"$.a", []pathSeg{{key: "a", index: -1}}, "a"},
		{"$[2]", []pathSeg{{index: 2}}, "[2]"},
		{"[2][10]", []pathSeg{{index: 2}, {index: 10}}, "[2][10]"},
		{"$", nil, "$"},
		{"$foo", []pathSeg{{key: "$foo", index: -1}}, "$foo"},
		{"$$", []pathSeg{{key: "$$", index: -1}}, "$$"},
		{`labels["a.b"]`, []pathSeg{{key: "labels", index: -1}, {key: "a.b", index: -1}}, `labels["a.b"]`},
		{`["$"]`, []pathSeg{{key: "$", index: -1}}, `["$"]`},
		{`[""]`, []pathSeg{{key: "", index: -1}}, `[""]`},
		{`a["x"].b`, []pathSeg{{key: "a", index: -1}, {key: "x", index: -1}, {key: "b", index: -1}}, "a.x.b"},
		{"a b.c-d", []pathSeg{{key: "a b", index: -1}, {key: "c-d", index: -1}}, "a b.c-d"},
		{"a[999999999]", []pathSeg{{key: "a", index: -1}, {index: 999999999}}, "a[999999999]"},
	}
	for _, tt := range tests {
		p, err := ParsePath(tt.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.in, err)
			continue
		}
		if got := p.segs; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePath(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got := p.String(); got != tt.str {
			t.Errorf("ParsePath(%q).String() = %q, want %q", tt.in, got, tt.str)
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty path"},
		{"$.", "empty key at byte 2"},
		{"a.", "empty key at byte 2"},
		{".a", "empty key at byte 0"},
		{"a..b", "empty key at byte 2"},
		{"a[", `expected an index or a quoted key after "[" at byte 2`},
		{"a[]", `expected an index or a quoted key after "[" at byte 2`},
		{"a[x]", `expected an index or a quoted key after "[" at byte 2`},
		{"a[-1]", `expected an index or a quoted key after "[" at byte 2`},
		{"a[01]", "index has a leading zero at byte 2"},
		{"a[1234567890]", "index too large at byte 2"},
		{"a[1", `expected "]" at byte 3`},
		{"a[1]b", `expected "." or "[" at byte 4`},
		{"a]", `unexpected "]" at byte 1`},
		{`a["b`, "bad quoted key at byte 2"},
		{`a["b"`, `expected "]" at byte 5`},
		{`a['b']`, `expected an index or a quoted key after "[" at byte 2`},
	}
	for _, tt := range tests {
		_, err := ParsePath(tt.in)
		if err == nil {
			t.Errorf("ParsePath(%q) succeeded, want an error", tt.in)
			continue
		}
		if got := err.Error(); !strings.Contains(got, tt.want) {
			t.Errorf("ParsePath(%q) error = %q, want it to contain %q", tt.in, got, tt.want)
		}
	}
}

const lookupDoc = `{
	"id": "abc",
	"count": 3,
	"ok": true,
	"none": null,
	"alert": {"labels": {"host": "db1", "a.b": "dotted"}},
	"items": [{"id": 1}, {"id": 2, "tags": ["x", "y"]}],
	"": "empty key",
	"$": "dollar"
}`

func TestPathLookup(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(lookupDoc), &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		want   any
		wantOK bool
	}{
		{"id", "abc", true},
		{"$.id", "abc", true},
		{"count", 3.0, true},
		{"ok", true, true},
		{"none", nil, true},
		{"alert.labels.host", "db1", true},
		{`alert.labels["a.b"]`, "dotted", true},
		{"items[1].id", 2.0, true},
		{"items[1].tags[1]", "y", true},
		{`[""]`, "empty key", true},
		{`["$"]`, "dollar", true},
		{"missing", nil, false},
		{"alert.missing.host", nil, false},
		{"items[2]", nil, false},
		{"items.0", nil, false},  // a key on an array
		{"alert[0]", nil, false}, // an index on an object
		{"id.more", nil, false},  // a key on a string
		{"none.x", nil, false},
	}
	for _, tt := range tests {
		p, err := ParsePath(tt.path)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", tt.path, err)
		}
		got, ok := p.Lookup(doc)
		if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tt.path, got, ok, tt.want, tt.wantOK)
		}
	}

	root, _ := ParsePath("$")
	if got, ok := root.Lookup(doc); !ok || !reflect.DeepEqual(got, doc) {
		t.Errorf(`Lookup("$") = %v, %v; want the document`, got, ok)
	}
	if !root.IsRoot() {
		t.Error(`ParsePath("$").IsRoot() = false`)
	}
	var zero Path
	if got, ok := zero.Lookup("x"); !ok || got != "x" {
		t.Errorf("zero Path Lookup = %v, %v; want the document", got, ok)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"a", "alert.labels.host", "items[0].id", "$.a", "$[2]", "$", "$foo",
		`labels["a.b"]`, `["$"]`, `[""]`, `a["\u00e9\x00"]`, "a..b", "a[01]", "[", "]",
	} {
		f.Add(s)
	}
	var doc any
	if err := json.Unmarshal([]byte(lookupDoc), &doc); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		// String is canonical: it parses back to the same path, and is a
		// fixed point.
		str := p.String()
		q, err := ParsePath(str)
		if err != nil {
			t.Fatalf("ParsePath(%q) ok, but its String %q does not parse: %v", s, str, err)
		}
		if !reflect.DeepEqual(p.segs, q.segs) {
			t.Fatalf("ParsePath(%q) = %+v, but ParsePath(%q) = %+v", s, p.segs, str, q.segs)
		}
		if got := q.String(); got != str {
			t.Fatalf("String not canonical: %q then %q", str, got)
		}
		p.Lookup(doc) // must not panic
	})
}

func BenchmarkPathLookup(b *testing.B) {
	var doc any
	if err := json.Unmarshal([]byte(lookupDoc), &doc); err != nil {
		b.Fatal(err)
	}
	p, err := ParsePath("$.items[1].tags[1]")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.Lookup(doc); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkParsePath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePath("$.alert.labels.host"); err != nil {
			b.Fatal(err)
		}
	}
}
