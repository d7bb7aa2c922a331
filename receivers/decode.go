package receivers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// prepareBody checks what every receiver requires of a body before it is
// decoded: not empty, valid UTF-8 (encoding/json would silently replace bad
// bytes). A leading UTF-8 byte-order mark is dropped. It returns the body
// and the kind of its top-level JSON value ('{', '[', 'n', '"', 't', 'f' or
// '0' for a number).
func prepareBody(body []byte) ([]byte, byte, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	i := 0
	for i < len(body) && isSpace(body[i]) {
		i++
	}
	if i == len(body) {
		return nil, 0, alertgate.FieldErrorf("body", "empty, want a JSON object")
	}
	if !utf8.Valid(body) {
		off := 0
		for off < len(body) {
			r, n := utf8.DecodeRune(body[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, 0, alertgate.FieldErrorf("body", "invalid UTF-8 at byte %d", off)
	}
	kind := body[i]
	switch {
	case kind == '-' || (kind >= '0' && kind <= '9'):
		kind = '0'
	}
	return body, kind, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// kindName names a top-level kind as returned by prepareBody.
func kindName(kind byte) string {
	switch kind {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case '0':
		return "a number"
	}
	return "not JSON"
}

// wantObject rejects a top-level value that is not an object.
func wantObject(kind byte) error {
	if kind == '{' {
		return nil
	}
	return alertgate.FieldErrorf("body", "must be a JSON object, got %s", kindName(kind))
}

// decodeObject prepares body, requires a top-level object and decodes it
// into v. Errors name the field.
func decodeObject(body []byte, v any) error {
	body, kind, err := prepareBody(body)
	if err != nil {
		return err
	}
	if err := wantObject(kind); err != nil {
		return err
	}
	return jsonError(json.Unmarshal(body, v), "")
}

// jsonError translates an encoding/json error into an EINVALID
// *alertgate.Error naming the field, below prefix.
func jsonError(err error, prefix string) error {
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var ae *alertgate.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &syn):
		if prefix != "" {
			return alertgate.FieldErrorf(prefix, "invalid JSON: %s", syn.Error())
		}
		return alertgate.FieldErrorf("body", "invalid JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := join(prefix, embedded.Replace(typ.Field))
		if field == "" {
			field = "body"
		}
		return alertgate.FieldErrorf(field, "want %s, got %s", typeName(typ.Type), alertgate.Truncate(typ.Value, 48))
	}
	// Nesting too deep, a string where a json.Number belongs, and the like.
	field := prefix
	if field == "" {
		field = "body"
	}
	return alertgate.FieldErrorf(field, "invalid value: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// embedded drops the names of embedded structs, which encoding/json puts
// in UnmarshalTypeError.Field, from a field path.
var embedded = strings.NewReplacer("amEnvelope.", "", "amAlert.", "")

// typeName says what JSON a Go type takes.
func typeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a JSON value"
		}
		return "an array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "another type"
}

// rawKind classifies a json.RawMessage by its first byte.
func rawKind(raw json.RawMessage) byte {
	for _, c := range raw {
		if isSpace(c) {
			continue
		}
		if c == '-' || (c >= '0' && c <= '9') {
			return '0'
		}
		return c
	}
	return 0
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
