package redisx

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
)

//go:embed prelude.lua
var preludeSource string

// generatedMarker is the line of prelude.lua that the generated
// definitions replace.
const generatedMarker = "--@@generated@@\n"

// Prelude is the Lua every script starts with: prelude.lua with the
// definitions generated from Go (key families, severity ranks, statuses,
// timeline event types) in place of its marker.
var Prelude = func() string {
	before, after, ok := strings.Cut(preludeSource, generatedMarker)
	if !ok {
		panic("redisx: prelude.lua lost its " + strings.TrimSpace(generatedMarker) + " line")
	}
	return before + generated() + after
}()

// generated writes the Lua definitions that must agree with Go: the key
// builders K.<family>, the severity ranks SEV, and the incident statuses
// and timeline event types as locals (ST_<status>, EV_<type>). Locals cost
// a script nothing at run time, where a table is built on every call; a
// misspelt one is a global, which Redis refuses, so tests catch it.
func generated() string {
	var b strings.Builder
	fmt.Fprintf(&b, "local SHARDS = %d\n", Shards)
	b.WriteString("local K = {}\n")
	for _, f := range Families {
		before, after, _ := strings.Cut(f.pattern, "%s")
		if f.HasID() {
			fmt.Fprintf(&b, "function K.%s(id) return B .. %s .. id .. %s end\n", f.name, luaString(before), luaString(after))
		} else {
			fmt.Fprintf(&b, "function K.%s() return B .. %s end\n", f.name, luaString(f.pattern))
		}
	}
	b.WriteString("local SEV = {")
	for i, s := range alertgate.Severities {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%s] = %d", luaString(string(s)), s.Rank())
	}
	b.WriteString("}\n")
	statuses := make([]string, len(alertgate.IncidentStatuses))
	for i, s := range alertgate.IncidentStatuses {
		statuses[i] = string(s)
	}
	writeLocals(&b, "ST_", statuses)
	writeLocals(&b, "EV_", alertgate.TimelineEvents)
	return b.String()
}

// writeLocals writes "local P_a, P_b = 'a', 'b'".
func writeLocals(b *strings.Builder, prefix string, values []string) {
	names := make([]string, len(values))
	quoted := make([]string, len(values))
	for i, v := range values {
		names[i], quoted[i] = prefix+v, luaString(v)
	}
	fmt.Fprintf(b, "local %s = %s\n", strings.Join(names, ", "), strings.Join(quoted, ", "))
}

// luaString quotes s for Lua. The generated names are plain ASCII, where
// Go's quoting and Lua's agree.
func luaString(s string) string { return strconv.Quote(s) }

// Script is one Lua script, prelude included.
type Script struct {
	name   string
	script *redis.Script
}

// NewScript returns the script called name (for errors and logs) with the
// body after the prelude.
func NewScript(name, body string) *Script {
	return &Script{name: name, script: redis.NewScript(Prelude + "\n-- " + name + "\n" + body)}
}

// Name is the script's name.
func (s *Script) Name() string { return s.name }

// Run runs the script with keys, the header as ARGV[1] and args after it,
// and returns the script's reply.
//
// Run sends the script once: go-redis sends EVALSHA and, only when Redis
// answers NOSCRIPT (nothing ran), EVAL. The client must not resend a
// command after a timeout (alertgate's clients have MaxRetries -1), since
// Redis may run both copies; the request ids in the header make that
// harmless when it happens anyway.
//
// Errors are classified by Wrap: transient ones are EUNAVAILABLE, the rest
// EINTERNAL naming the script.
func (s *Script) Run(ctx context.Context, c redis.Scripter, keys []string, h *Header, args ...any) ([]any, error) {
	argv := make([]any, 0, 1+len(args))
	argv = append(argv, h.Bytes())
	argv = append(argv, args...)
	reply, err := s.script.Run(ctx, c, keys, argv...).Slice()
	if err != nil {
		return nil, Wrap(s.name, err)
	}
	return reply, nil
}

// Queue adds the script to a pipeline as one EVALSHA. A pipeline cannot
// fall back to EVAL as Run does: a NOSCRIPT answer (Redis restarted and
// lost its script cache) is the caller's to handle, with Load and a retry
// on the next pass. Read the reply with Slice and ReadReply.
func (s *Script) Queue(ctx context.Context, p redis.Pipeliner, keys []string, h *Header, args ...any) *redis.Cmd {
	argv := make([]any, 0, 1+len(args))
	argv = append(argv, h.Bytes())
	argv = append(argv, args...)
	return p.EvalSha(ctx, s.script.Hash(), keys, argv...)
}

// IsNoScript reports whether Redis refused a queued script because it no
// longer has it.
func IsNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// Reply reads a script's reply, an array of strings and numbers, by
// position; the first value it cannot read makes Err an EINTERNAL error
// naming the script.
type Reply struct {
	script string
	values []any
	err    error
}

// ReadReply starts reading reply, which must have n values.
func (s *Script) ReadReply(reply []any, n int) *Reply {
	r := &Reply{script: s.name, values: reply}
	if len(reply) != n {
		r.fail("%d values, want %d", len(reply), n)
	}
	return r
}

// Str returns value i as a string.
func (r *Reply) Str(i int) string {
	if r.err != nil {
		return ""
	}
	v, ok := r.values[i].(string)
	if !ok {
		r.fail("value %d is %T, want a string", i, r.values[i])
	}
	return v
}

// Int returns value i as an int.
func (r *Reply) Int(i int) int {
	if r.err != nil {
		return 0
	}
	v, ok := r.values[i].(int64)
	if !ok {
		r.fail("value %d is %T, want an integer", i, r.values[i])
	}
	return int(v)
}

// Err is the first problem met, or nil.
func (r *Reply) Err() error { return r.err }

func (r *Reply) fail(format string, args ...any) {
	if r.err == nil {
		r.err = &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
			Err: fmt.Errorf("%s: reply: "+format, append([]any{r.script}, args...)...)}
	}
}

// Load loads the script into Redis's script cache (and every master's,
// on a cluster): a start-up check that it compiles.
func (s *Script) Load(ctx context.Context, c redis.Scripter) error {
	return Wrap(s.name+": load", s.script.Load(ctx, c).Err())
}

// RequestID returns a fresh request id for the prelude's request memory.
func RequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
