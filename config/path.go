package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Path is a parsed location inside a JSON document, as used by the
// generic integration's mapping. The syntax is
//
//	alert.labels.host     keys, separated by dots
//	items[0].id           [n] indexes an array (n ≥ 0, decimal)
//	$.alert.id, $[0]      an optional leading "$" names the document itself
//	labels["a.b"]         a double-quoted key, for keys holding '.', '[' or ']'
//	$                     the whole document
//
// Parse once with ParsePath, then Lookup on every body. The zero Path is
// the whole document.
type Path struct {
	segs []pathSeg
}

// pathSeg is one step: a key, or an index when index >= 0.
type pathSeg struct {
	key   string
	index int
}

// maxIndexDigits bounds an index so it always fits an int, even on 32-bit.
const maxIndexDigits = 9

// ParsePath parses a path in the syntax described at Path.
func ParsePath(s string) (Path, error) {
	if s == "" {
		return Path{}, errors.New("empty path")
	}
	var p Path
	i := 0
	// A leading "$" is the root only when it stands alone or is followed by
	// "." or "["; otherwise it begins a key such as "$foo".
	if s[0] == '$' && (len(s) == 1 || s[1] == '.' || s[1] == '[') {
		i = 1
		if len(s) > 1 && s[1] == '.' {
			n, err := p.parseKey(s, 2)
			if err != nil {
				return Path{}, err
			}
			i = n
		}
	} else if s[0] != '[' {
		// The first key has no dot in front of it.
		n, err := p.parseKey(s, 0)
		if err != nil {
			return Path{}, err
		}
		i = n
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			n, err := p.parseKey(s, i+1)
			if err != nil {
				return Path{}, err
			}
			i = n
		case '[':
			n, err := p.parseBracket(s, i)
			if err != nil {
				return Path{}, err
			}
			i = n
		default:
			return Path{}, pathError(s, i, `expected "." or "["`)
		}
	}
	return p, nil
}

// parseKey appends the bare key starting at s[i] and returns the index
// after it.
func (p *Path) parseKey(s string, i int) (int, error) {
	end := i
	for end < len(s) && s[end] != '.' && s[end] != '[' && s[end] != ']' {
		end++
	}
	if end == i && (end == len(s) || s[end] != ']') {
		return 0, pathError(s, i, "empty key")
	}
	if end < len(s) && s[end] == ']' {
		return 0, pathError(s, end, `unexpected "]"`)
	}
	p.segs = append(p.segs, pathSeg{key: s[i:end], index: -1})
	return end, nil
}

// parseBracket appends the [n] or ["key"] starting at s[i] (which is '[')
// and returns the index after the closing bracket.
func (p *Path) parseBracket(s string, i int) (int, error) {
	j := i + 1
	if j < len(s) && s[j] == '"' {
		q, err := strconv.QuotedPrefix(s[j:])
		if err != nil {
			return 0, pathError(s, j, "bad quoted key")
		}
		key, err := strconv.Unquote(q)
		if err != nil {
			return 0, pathError(s, j, "bad quoted key")
		}
		j += len(q)
		if j == len(s) || s[j] != ']' {
			return 0, pathError(s, j, `expected "]"`)
		}
		p.segs = append(p.segs, pathSeg{key: key, index: -1})
		return j + 1, nil
	}
	start := j
	for j < len(s) && '0' <= s[j] && s[j] <= '9' {
		j++
	}
	digits := s[start:j]
	switch {
	case digits == "":
		return 0, pathError(s, start, `expected an index or a quoted key after "["`)
	case len(digits) > 1 && digits[0] == '0':
		return 0, pathError(s, start, "index has a leading zero")
	case len(digits) > maxIndexDigits:
		return 0, pathError(s, start, "index too large")
	case j == len(s) || s[j] != ']':
		return 0, pathError(s, j, `expected "]"`)
	}
	n, _ := strconv.Atoi(digits) // cannot fail: at most 9 digits
	p.segs = append(p.segs, pathSeg{index: n})
	return j + 1, nil
}

func pathError(s string, at int, msg string) error {
	return fmt.Errorf("invalid path %q: %s at byte %d", s, msg, at)
}

// Lookup follows the path through v, a value decoded by encoding/json into
// an any (map[string]any, []any, string, float64, bool, nil or
// json.Number). ok is false when a key is missing, an index is out of
// range, or a step meets a value of the wrong kind. A JSON null at the end
// of the path is found: it gives (nil, true).
func (p Path) Lookup(v any) (value any, ok bool) {
	for _, s := range p.segs {
		if s.index >= 0 {
			a, isArray := v.([]any)
			if !isArray || s.index >= len(a) {
				return nil, false
			}
			v = a[s.index]
			continue
		}
		m, isObject := v.(map[string]any)
		if !isObject {
			return nil, false
		}
		if v, ok = m[s.key]; !ok {
			return nil, false
		}
	}
	return v, true
}

// IsRoot reports whether the path names the whole document ("$").
func (p Path) IsRoot() bool { return len(p.segs) == 0 }

// String returns the path in canonical form; ParsePath(p.String()) gives
// back an equal path.
func (p Path) String() string {
	if len(p.segs) == 0 {
		return "$"
	}
	var b strings.Builder
	for i, s := range p.segs {
		switch {
		case s.index >= 0:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case !isBareKey(s.key) || (i == 0 && s.key == "$"):
			b.WriteString("[")
			b.WriteString(strconv.Quote(s.key))
			b.WriteString("]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		}
	}
	return b.String()
}

// isBareKey reports whether key can be written without quotes.
func isBareKey(key string) bool {
	return key != "" && !strings.ContainsAny(key, ".[]")
}
