package receivers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestFastDecoderKnowsEveryField walks, with reflect, every field that
// encoding/json would decode into the structs the fast decoder fills
// (amMessage and its alerts for Alertmanager, grafanaMessage and its alerts
// for Grafana). For each one it decodes a body that sets just that field,
// both ways, and requires that the fast decoder did not give up and
// produced exactly what encoding/json did. A field added to those structs
// later, and not taught to decodeAMFast, fails here instead of silently
// sending every real body down the slow path or losing the field.
func TestFastDecoderKnowsEveryField(t *testing.T) {
	for _, mode := range []struct {
		name    string
		grafana bool
		ref     reflect.Type // what encoding/json decodes into
	}{
		{"alertmanager", false, reflect.TypeFor[amMessage]()},
		{"grafana", true, reflect.TypeFor[grafanaMessage]()},
	} {
		t.Run(mode.name, func(t *testing.T) {
			tested := 0
			var walk func(typ reflect.Type, wrap func(key string, v any) map[string]any, at func(reflect.Value) reflect.Value, path string)
			walk = func(typ reflect.Type, wrap func(key string, v any) map[string]any, at func(reflect.Value) reflect.Value, path string) {
				for _, f := range jsonFields(t, typ) {
					fpath := path + f.name
					if f.typ.Kind() == reflect.Slice && f.typ.Elem().Kind() == reflect.Struct {
						// An array of objects ("alerts"): the array itself,
						// then every field of its elements.
						outer := wrap
						walk(f.typ.Elem(),
							func(key string, v any) map[string]any {
								return outer(f.name, []any{map[string]any{key: v}})
							},
							func(v reflect.Value) reflect.Value {
								s := at(v).FieldByIndex(f.index)
								if s.Len() == 0 {
									return reflect.Value{}
								}
								return s.Index(0)
							},
							fpath+"[0].")
					}
					sample, ok := sampleJSON(f.typ, fpath)
					if !ok {
						t.Errorf("%s (%s): the test has no sample value for this type; add one to sampleJSON and teach decodeAMFast the field", fpath, f.typ)
						continue
					}
					tested++
					field := func(v reflect.Value) reflect.Value {
						if v = at(v); !v.IsValid() {
							return v
						}
						return v.FieldByIndex(f.index)
					}

					// The field set to a distinctive value: the fast decoder
					// must take it, and set it as encoding/json does.
					slow := checkBothDecoders(t, fpath, mustMarshal(t, wrap(f.name, sample)), mode.grafana, mode.ref, true)
					if slow.IsValid() {
						if v := field(slow); !v.IsValid() || v.IsZero() {
							t.Errorf("%s: the sample value %s decoded to nothing; pick a better one", fpath, mustMarshal(t, sample))
						}
					}
					// null, which Grafana sends for some fields.
					checkBothDecoders(t, fpath+"=null", mustMarshal(t, wrap(f.name, nil)), mode.grafana, mode.ref, true)
					// The key in another case, which encoding/json matches
					// too: the fast decoder must give up (or agree), so
					// the key must be in its lists for foldsTo.
					if up := strings.ToUpper(f.name); up != f.name {
						checkBothDecoders(t, fpath+" as "+up, mustMarshal(t, wrap(up, sample)), mode.grafana, mode.ref, false)
					}
				}
			}
			walk(mode.ref, func(key string, v any) map[string]any { return map[string]any{key: v} },
				func(v reflect.Value) reflect.Value { return v }, "")
			if tested < 10 {
				t.Errorf("only %d fields tested; the walk is broken", tested)
			}
			t.Logf("%d fields", tested)
		})
	}
}

// checkBothDecoders decodes body with the fast decoder and with
// encoding/json into a new ref, and requires the same message. mustTake
// also requires that the fast decoder did not give up. It returns the
// encoding/json result (a struct of type ref), or an invalid Value.
func checkBothDecoders(t *testing.T, what string, body []byte, grafana bool, ref reflect.Type, mustTake bool) reflect.Value {
	t.Helper()
	var fast grafanaMessage
	ok := decodeAMFast(body, &fast, grafana)
	if !ok && mustTake {
		t.Errorf("%s: the fast decoder gave up on %s", what, body)
	}
	slowPtr := reflect.New(ref)
	if err := json.Unmarshal(body, slowPtr.Interface()); err != nil {
		t.Errorf("%s: encoding/json: %v on %s", what, err, body)
		return reflect.Value{}
	}
	if !ok {
		return slowPtr.Elem()
	}
	var slow grafanaMessage
	switch p := slowPtr.Interface().(type) {
	case *grafanaMessage:
		slow = *p
	case *amMessage:
		slow.amEnvelope = p.amEnvelope
		if p.Alerts != nil {
			slow.Alerts = make([]grafanaAlert, len(p.Alerts))
			for i := range p.Alerts {
				slow.Alerts[i].amAlert = p.Alerts[i]
			}
		}
	default:
		t.Fatalf("unexpected reference type %s", ref)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Errorf("%s: decoders differ on %s:\nfast          %#v\nencoding/json %#v", what, body, fast, slow)
	}
	return slowPtr.Elem()
}

type jsonField struct {
	name  string // the key encoding/json matches
	index []int  // for reflect.Value.FieldByIndex
	typ   reflect.Type
}

// jsonFields lists the fields encoding/json decodes into a struct type:
// exported fields by tag name (or Go name), with the fields of untagged
// embedded structs promoted. What this does not model (name conflicts,
// embedded pointers, ",string") fails the test rather than being guessed.
func jsonFields(t *testing.T, typ reflect.Type) []jsonField {
	t.Helper()
	var out []jsonField
	seen := map[string]bool{}
	var add func(typ reflect.Type, index []int)
	add = func(typ reflect.Type, index []int) {
		for i := range typ.NumField() {
			sf := typ.Field(i)
			idx := append(append([]int(nil), index...), i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if strings.Contains(","+opts+",", ",string,") {
				t.Fatalf("%s.%s: the ,string option is not modelled by this test", typ, sf.Name)
			}
			if sf.Anonymous && name == "" {
				if sf.Type.Kind() != reflect.Struct {
					t.Fatalf("%s.%s: embedded %s is not modelled by this test", typ, sf.Name, sf.Type)
				}
				add(sf.Type, idx)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if seen[strings.ToLower(name)] {
				t.Fatalf("%s: two fields named %q (up to case); encoding/json's conflict rules are not modelled by this test", typ, name)
			}
			seen[strings.ToLower(name)] = true
			out = append(out, jsonField{name, idx, sf.Type})
		}
	}
	add(typ, nil)
	return out
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// sampleJSON is a distinctive JSON value for a field of type typ at path,
// one that encoding/json decodes into a non-zero value. Strings carry
// characters that json.Marshal escapes, so the fast decoder's unescaping is
// exercised too.
func sampleJSON(typ reflect.Type, path string) (any, bool) {
	switch {
	case typ == rawMessageType:
		return json.RawMessage(fmt.Sprintf(`{"raw":[1,-2.5e3,"%s",null,true,{}]}`, path)), true
	case typ.Kind() == reflect.String:
		return "v:" + path + " <&> é\t\U0001F600", true
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Int64:
		return 1000 + len(path), true
	case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Struct:
		return []any{map[string]any{}, map[string]any{}}, true
	case typ.Kind() == reflect.Map && typ.Key().Kind() == reflect.String:
		v, ok := sampleJSON(typ.Elem(), path+".v")
		if !ok {
			return nil, false
		}
		return map[string]any{"k:" + path: v, "k2 <&>": v, "": v}, true
	}
	return nil, false
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
