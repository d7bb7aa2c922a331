package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load parses and validates the YAML config in data. path names the file
// in problems ("" for none) and anchors relative *_file paths. ${NAME}
// references read the process environment.
func Load(data []byte, path string) (*Config, error) {
	return LoadEnv(data, path, os.Getenv)
}

// LoadFile reads, parses and validates the config file at path. ${NAME}
// references read the process environment.
func LoadFile(path string) (*Config, error) {
	return LoadFileEnv(path, os.Getenv)
}

// LoadFileEnv is LoadFile with ${NAME} references read through getenv.
func LoadFileEnv(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return LoadEnv(data, path, getenv)
}

// LoadEnv is Load with ${NAME} references read through getenv.
//
// Loading goes: defaults, then the file on top of them (unknown keys, wrong
// types, bad durations and unset variables are problems), then the *_file
// twins are read, then Validate. Every problem found on the way is
// returned in one *LoadError, each with its line. On success the secret
// fields hold the secrets read from *_file twins; the *_file fields keep
// their paths, for the record.
//
// ${NAME} is expanded in scalar values only, never in keys, and the result
// is not parsed as YAML again, so a secret cannot inject structure. "$$"
// is a literal "$"; any other "$" is kept as it is. An unset or empty
// variable is a problem. A nil getenv is an empty environment.
func LoadEnv(data []byte, path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	l := &loader{
		getenv: getenv,
		lines:  make(map[string]int),
		bad:    make(map[string]bool),
	}
	c := &Config{Path: path}
	c.applyBaseDefaults()

	root, err := parseYAML(data)
	if err != nil {
		return nil, (&problems{list: []Problem{yamlProblem(data, err)}}).err(path)
	}
	if root != nil {
		l.decode(root, reflect.ValueOf(c).Elem(), "", root.Line)
	}
	if l.nodes > maxNodes {
		// Much of the file went undecoded; validating it would only add
		// noise to the one problem that matters.
		return nil, l.ps.err(path)
	}
	l.readSecretFiles(c, path)
	c.applyDerivedDefaults()

	var vs problems
	c.validate(&vs)
	for _, p := range vs.list {
		// A field that could not be decoded is left empty; saying so again
		// ("name: required") would only bury the real problem.
		if l.isBad(p.Field) {
			continue
		}
		p.Line = l.lineOf(p.Field)
		l.ps.list = append(l.ps.list, p)
	}
	if err := l.ps.err(path); err != nil {
		return nil, err
	}
	c.lineOf = l.lineOf
	return c, nil
}

// parseYAML parses data into a node tree: nil for an empty document.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	// A config reload must not take the process down, whatever the parser
	// does with a hostile file.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("yaml: parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, fmt.Errorf("yaml: line %d: the file holds more than one YAML document", next.Line)
	case !errors.Is(err, io.EOF):
		return nil, err
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlProblem turns a YAML syntax error in data into a Problem with its
// line.
func yamlProblem(data []byte, err error) Problem {
	line, msg := splitYAMLError(err)
	if l := firstBadLine(data, msg); l > 0 {
		line = l
	}
	return Problem{Line: line, Message: "invalid YAML: " + msg}
}

func splitYAMLError(err error) (line int, msg string) {
	msg = err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// maxSearchLines bounds firstBadLine's work (about log2(n) parses of the
// file).
const maxSearchLines = 10000

// firstBadLine finds the line a YAML syntax error is on. The parser names
// the line where the enclosing block began, which for a mis-indented key
// can be far above it. The first line at which a prefix of the file fails
// with the same message is where the problem is; it is found by bisection,
// since once a prefix fails longer ones do too (near enough). It returns 0
// when it cannot tell.
func firstBadLine(data []byte, msg string) int {
	var ends []int // ends[i] is the offset just past line i+1
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	if len(ends) == 0 || len(ends) > maxSearchLines {
		return 0
	}
	failsAt := func(k int) bool { // does the first k lines fail with msg?
		_, err := parseYAML(data[:ends[k-1]])
		if err == nil {
			return false
		}
		_, m := splitYAMLError(err)
		return m == msg
	}
	lo, hi := 1, len(ends)
	if !failsAt(hi) {
		return 0
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if failsAt(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// loader decodes a YAML node tree onto a Config by walking it next to the
// Go value, so that every problem names its field path as well as its line,
// all of them are found in one pass, and ${VAR} is expanded in values only.
// yaml.v3's own decoder (even with KnownFields) reports "line N: field x
// not found in type config.Redis" and cannot expand variables.
type loader struct {
	getenv func(string) string
	ps     problems
	// lines maps a field path to the line of its value in the file.
	lines map[string]int
	// bad holds the field paths that already have a problem.
	bad map[string]bool
	// nodes counts the nodes visited, aliases expanded, to bound the work
	// a small file full of aliases can cause.
	nodes int
}

// maxNodes is far above any real config (the full example has about 260
// values), and low enough that a small file whose aliases multiply into
// billions of values ("billion laughs") fails fast.
const maxNodes = 1 << 17

// spend counts n more nodes against maxNodes. Past it, it records the
// problem once and returns false.
func (l *loader) spend(n, line int, path string) bool {
	if l.nodes > maxNodes {
		return false
	}
	l.nodes += n
	if l.nodes > maxNodes {
		l.fail(line, path, "too many values (after expanding aliases)")
		return false
	}
	return true
}

func (l *loader) fail(line int, field, format string, args ...any) {
	l.bad[field] = true
	l.ps.addAt(line, field, format, args...)
}

// isBad reports whether field or one of its parents has a problem.
func (l *loader) isBad(field string) bool {
	for f, ok := field, true; ok; f, ok = parentPath(f) {
		if l.bad[f] {
			return true
		}
	}
	return false
}

// lineOf is the line of field, or of its closest parent in the file: a
// missing field is reported at the block that lacks it.
func (l *loader) lineOf(field string) int {
	for f, ok := field, true; ok && f != ""; f, ok = parentPath(f) {
		if line, found := l.lines[f]; found {
			return line
		}
	}
	return 0
}

var (
	durationType  = reflect.TypeFor[time.Duration]()
	signatureType = reflect.TypeFor[Signature]()
)

// decode sets v from n. A null value leaves v as it is (its default).
// line is where the value is introduced: the line of its key, or of its
// "-" in a list, which is also where a field missing from it is reported.
func (l *loader) decode(n *yaml.Node, v reflect.Value, path string, line int) {
	if !l.spend(1, line, path) {
		return
	}
	l.lines[path] = line
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	l.decodeValue(n, v, path)
}

// decodeKind is how the loader decodes a Go type. kindOf is the one place
// that decides it: decodeValue dispatches on it, and decodable walks a type
// with it, so the two cannot disagree.
type decodeKind int

const (
	kindUnsupported decodeKind = iota
	kindDuration
	kindPointer
	kindStruct
	kindSlice
	kindMap // string keys only
	kindString
	kindBool
	kindInt // int and int64; the type's size bounds the value
)

func kindOf(t reflect.Type) decodeKind {
	if t == durationType {
		return kindDuration
	}
	switch t.Kind() {
	case reflect.Pointer:
		return kindPointer
	case reflect.Struct:
		return kindStruct
	case reflect.Slice:
		return kindSlice
	case reflect.Map:
		if t.Key().Kind() == reflect.String {
			return kindMap
		}
	case reflect.String:
		return kindString
	case reflect.Bool:
		return kindBool
	case reflect.Int, reflect.Int64:
		return kindInt
	}
	return kindUnsupported
}

// decodable reports whether the loader can decode YAML into every part of
// a value of type t: every field with a yaml name, every element, every
// pointee. The error names the first part it cannot, by Go path. A test
// walks Config with it, so a field of a new kind fails the tests instead of
// the loader.
func decodable(t reflect.Type) error {
	return decodableAt(t, t.String(), make(map[reflect.Type]bool))
}

func decodableAt(t reflect.Type, at string, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil // a recursive type: checked further up
	}
	seen[t] = true
	switch kindOf(t) {
	case kindPointer, kindSlice:
		return decodableAt(t.Elem(), at+"[elem]", seen)
	case kindMap:
		return decodableAt(t.Elem(), at+"[value]", seen)
	case kindStruct:
		f := fieldsOf(t)
		for _, name := range f.names {
			sf := t.Field(f.index[name])
			if err := decodableAt(sf.Type, at+"."+sf.Name, seen); err != nil {
				return err
			}
		}
		return nil
	case kindUnsupported:
		return fmt.Errorf("%s: %w", at, unsupported(t))
	}
	return nil
}

// unsupported says why the loader cannot decode into t.
func unsupported(t reflect.Type) error {
	what := t.Kind().String()
	if t.Kind() == reflect.Map {
		what = "a map with " + t.Key().Kind().String() + " keys"
	}
	return fmt.Errorf("the config loader cannot decode into %s (%s)", t, what)
}

func (l *loader) decodeValue(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	switch kindOf(t) {
	case kindDuration:
		s, ok := l.scalar(n, path, "a duration")
		if !ok {
			return
		}
		d, err := parseDuration(s)
		if err != nil {
			l.fail(l.lines[path], path, `%q is not a duration (for example "30s", "5m", "1h30m")`, s)
			return
		}
		v.SetInt(int64(d))

	case kindPointer:
		if !v.IsNil() {
			l.decodeValue(n, v.Elem(), path)
			return
		}
		p := reflect.New(t.Elem())
		if t.Elem() == signatureType {
			p = reflect.ValueOf(newSignature())
		}
		l.decodeValue(n, p.Elem(), path)
		v.Set(p)

	case kindStruct:
		if t == apiType { // tokens may be strings or mappings (access.go)
			l.decodeAPI(n, v, path)
			return
		}
		l.decodeStruct(n, v, path)

	case kindSlice:
		if n.Kind != yaml.SequenceNode {
			l.fail(l.lines[path], path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			l.decode(item, s.Index(i), path+"["+strconv.Itoa(i)+"]", item.Line)
		}
		v.Set(s)

	case kindMap:
		l.decodeMap(n, v, path)

	case kindString:
		if s, ok := l.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}

	case kindBool:
		s, ok := l.scalar(n, path, "true or false")
		if !ok {
			return
		}
		switch s {
		case "true", "True", "TRUE":
			v.SetBool(true)
		case "false", "False", "FALSE":
			v.SetBool(false)
		default:
			l.fail(l.lines[path], path, "%q is not true or false", s)
		}

	case kindInt:
		s, ok := l.scalar(n, path, "a whole number")
		if !ok {
			return
		}
		// ParseInt with the type's own size, so a value that would wrap
		// around (int is 32 bits on some platforms) is refused, not cut.
		i, err := strconv.ParseInt(s, 0, t.Bits())
		switch {
		case errors.Is(err, strconv.ErrRange):
			l.fail(l.lines[path], path, "%q is too large a number", s)
			return
		case err != nil:
			l.fail(l.lines[path], path, "%q is not a whole number", s)
			return
		}
		v.SetInt(i)

	default:
		// Only reachable if config.go gains a field of a kind kindOf does
		// not know, which TestEveryFieldDecodes catches. It must not take
		// the process down on a SIGHUP: the field is reported instead.
		l.fail(l.lines[path], path, "%v; this is a bug in alertgate", unsupported(t))
	}
}

// scalar returns the value of a scalar node with ${VAR} expanded.
func (l *loader) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		l.fail(l.lines[path], path, "expected %s, got %s", want, describe(n))
		return "", false
	}
	s, unset, err := expandEnv(n.Value, l.getenv)
	if err != nil {
		l.fail(l.lines[path], path, "%v", err)
		return "", false
	}
	for _, name := range unset {
		l.fail(l.lines[path], path, "environment variable %s is not set or is empty", name)
	}
	return s, len(unset) == 0
}

func (l *loader) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		l.fail(l.lines[path], path, "expected a mapping, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := make(map[string]int)
	for _, p := range l.pairs(n, path) {
		if p.key.Kind != yaml.ScalarNode {
			l.fail(p.key.Line, path, "keys must be strings, got %s", describe(p.key))
			continue
		}
		name := p.key.Value
		fp := fieldPath(path, name)
		if !p.merged {
			if first, dup := seen[name]; dup {
				l.fail(p.key.Line, fp, "duplicate key (first on line %d)", first)
				continue
			}
			seen[name] = p.key.Line
		}
		i, ok := fields.index[name]
		if !ok {
			l.fail(p.key.Line, fp, "unknown field%s", suggest(name, fields.names))
			continue
		}
		l.decode(p.value, v.Field(i), fp, p.key.Line)
	}
}

func (l *loader) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		l.fail(l.lines[path], path, "expected a mapping, got %s", describe(n))
		return
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	seen := make(map[string]int)
	for _, p := range l.pairs(n, path) {
		if p.key.Kind != yaml.ScalarNode {
			l.fail(p.key.Line, path, "keys must be strings, got %s", describe(p.key))
			continue
		}
		key := p.key.Value
		fp := keyPath(path, key)
		if !p.merged {
			if first, dup := seen[key]; dup {
				l.fail(p.key.Line, fp, "duplicate key (first on line %d)", first)
				continue
			}
			seen[key] = p.key.Line
		}
		elem := reflect.New(t.Elem()).Elem()
		l.decode(p.value, elem, fp, p.key.Line)
		m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
	}
	v.Set(m)
}

// pair is one key and value of a mapping; merged when it came in through
// a "<<" merge key.
type pair struct {
	key, value *yaml.Node
	merged     bool
}

// pairs lists a mapping's entries with "<<: *anchor" merge keys expanded:
// keys written in the mapping win over merged ones, and earlier merges win
// over later ones, as in YAML 1.1.
func (l *loader) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		out = append(out, pair{key: k, value: v})
	}
	if len(merges) == 0 {
		return out
	}
	have := make(map[string]bool, len(out))
	for _, p := range out {
		have[p.key.Value] = true
	}
	for _, m := range merges {
		line := m.Line
		m = deref(m)
		sources := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			sources = m.Content
		}
		for _, src := range sources {
			src = deref(src)
			if src.Kind != yaml.MappingNode {
				l.fail(line, path, `"<<" merges a mapping or a list of mappings, got %s`, describe(src))
				continue
			}
			if !l.spend(len(src.Content), line, path) {
				return out
			}
			for _, p := range l.pairs(src, path) {
				if p.key.Kind == yaml.ScalarNode && !have[p.key.Value] {
					have[p.key.Value] = true
					out = append(out, pair{key: p.key, value: p.value, merged: true})
				}
			}
		}
	}
	return out
}

// deref follows aliases to the anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names a node's kind for "expected …, got …" messages. It never
// quotes the value, which may be a secret.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a string"
	}
	return "nothing"
}

// parseDuration is time.ParseDuration; "0" already parses as zero.
func parseDuration(s string) (time.Duration, error) {
	return time.ParseDuration(strings.TrimSpace(s))
}

// structFields maps the yaml names of a struct's fields to their index.
type structFields struct {
	index map[string]int
	names []string
}

var fieldCache sync.Map // reflect.Type → structFields

func fieldsOf(t reflect.Type) structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(structFields)
	}
	f := structFields{index: make(map[string]int)}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		f.index[name] = i
		f.names = append(f.names, name)
	}
	fieldCache.Store(t, f)
	return f
}

// fieldPath appends a struct field name to a path.
func fieldPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// keyPath appends a map key to a path: labels.team, or labels["a.b"] when
// the key would be ambiguous.
func keyPath(path, key string) string {
	if isPlainKey(key) {
		return fieldPath(path, key)
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func isPlainKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parentPath strips the last step of a field path:
// "integrations[1].type" → "integrations[1]" → "integrations" → "".
// ok is false for "".
func parentPath(p string) (parent string, ok bool) {
	if p == "" {
		return "", false
	}
	if strings.HasSuffix(p, `"]`) {
		// A quoted key: find the `["` that opens it.
		if i := strings.LastIndex(p, `["`); i >= 0 {
			return p[:i], true
		}
	}
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return "", true
	}
	return p[:i], true
}

// suggest returns ` (did you mean "x"?)` for the known name closest to an
// unknown one, when one is close enough to be a typo.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance; names are short.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
