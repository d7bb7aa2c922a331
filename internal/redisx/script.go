package redisx

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
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

// generated writes the Lua tables that must agree with Go.
func generated() string {
	var b strings.Builder
	b.WriteString("local K = {}\n")
	for _, f := range Families {
		if f.HasID() {
			before, after, _ := strings.Cut(f.pattern, "%s")
			fmt.Fprintf(&b, "K.%s = function(id) return B .. %s .. id .. %s end\n", f.name, luaString(before), luaString(after))
		} else {
			fmt.Fprintf(&b, "K.%s = B .. %s\n", f.name, luaString(f.pattern))
		}
	}
	b.WriteString("local SEV = {")
	for i, s := range alertgate.Severities {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%s] = %d", luaString(string(s)), s.Rank())
	}
	b.WriteString("}\nlocal ST = {")
	for i, s := range alertgate.IncidentStatuses {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%s] = %s", luaString(string(s)), luaString(string(s)))
	}
	b.WriteString("}\nlocal EV = {")
	for i, e := range alertgate.TimelineEvents {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%s] = %s", luaString(e), luaString(e))
	}
	b.WriteString("}\n")
	return b.String()
}

// luaString quotes s for Lua. The generated names are plain ASCII, where
// Go's quoting and Lua's agree.
func luaString(s string) string { return strconv.Quote(s) }

// Header carries the named arguments every script gets (see prelude.lua).
// Scripts embed it in their own header type.
type Header struct {
	Base  string `json:"base"`
	Now   int64  `json:"now"`
	Req   string `json:"req,omitempty"`
	Actor string `json:"actor,omitempty"`
}

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
// and decodes the JSON object it returns into out.
//
// Run sends the script once: go-redis sends EVALSHA and, only when Redis
// answers NOSCRIPT (nothing ran), EVAL. The client must not resend a
// command after a timeout (alertgate's clients have MaxRetries -1), since
// Redis may run both copies; the request memory of the prelude makes that
// harmless when it happens anyway.
//
// Errors are classified by Wrap: transient ones are EUNAVAILABLE, the rest
// EINTERNAL naming the script.
func (s *Script) Run(ctx context.Context, c redis.Scripter, keys []string, header any, out any, args ...any) error {
	h, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("%s: encode header: %w", s.name, err)
	}
	argv := make([]any, 0, 1+len(args))
	argv = append(argv, h)
	argv = append(argv, args...)
	raw, err := s.script.Run(ctx, c, keys, argv...).Text()
	if err != nil {
		return Wrap(s.name, err)
	}
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		return &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
			Err: fmt.Errorf("%s: decode result %q: %w", s.name, alertgate.Truncate(raw, 200), err)}
	}
	return nil
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
