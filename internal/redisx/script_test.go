package redisx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
)

// probe returns what the prelude's generated definitions say, for
// comparison with the Go definitions they were made from.
var probe = redisx.NewScript("probe", func() string {
	var b strings.Builder
	b.WriteString("local keys, st, ev = {}, {}, {}\n")
	b.WriteString("for name, k in pairs(K) do keys[name] = k('ID') end\n")
	for _, s := range alertgate.IncidentStatuses {
		fmt.Fprintf(&b, "st[%q] = ST_%s\n", s, s)
	}
	for _, e := range alertgate.TimelineEvents {
		fmt.Fprintf(&b, "ev[%q] = EV_%s\n", e, e)
	}
	b.WriteString("return {cjson.encode({keys = keys, sev = SEV, st = st, ev = ev, shards = SHARDS, now = now, actor = H.actor, extra = H.extra, quoted = H.quoted})}")
	return b.String()
}())

type probeReply struct {
	Keys   map[string]string `json:"keys"`
	Sev    map[string]int    `json:"sev"`
	St     map[string]string `json:"st"`
	Ev     map[string]string `json:"ev"`
	Now    int64             `json:"now"`
	Actor  string            `json:"actor"`
	Extra  string            `json:"extra"`
	Quoted string            `json:"quoted"`
	Shards int               `json:"shards"`
}

// The Lua side of every definition agrees with the Go side, on the real
// Redis and on the embedded one of --dev.
func TestPreludeAgreesWithGo(t *testing.T) {
	embedded := miniredis.RunT(t)
	for name, c := range map[string]redis.UniversalClient{
		"redis":    must(redistest.New(t)),
		"embedded": redis.NewClient(&redis.Options{Addr: embedded.Addr()}),
	} {
		t.Run(name, func(t *testing.T) {
			shard := redisx.NewLayout("pfx").Shard(5)
			const quoted = "a \"quote\", a \\ backslash, a\nnewline, a \x01, ünïcödé, and \xff invalid"
			h := redisx.NewHeader(shard, time.UnixMilli(1764072000123), "req-1", "user:a").Str("extra", "named").Str("quoted", quoted)
			reply, err := probe.Run(t.Context(), c, []string{shard.Key(redisx.Seq)}, h)
			if err != nil {
				t.Fatal(err)
			}
			r := probe.ReadReply(reply, 1)
			var got probeReply
			if err := json.Unmarshal([]byte(r.Str(0)), &got); err != nil || r.Err() != nil {
				t.Fatalf("probe reply %v: %v %v", reply, err, r.Err())
			}
			if want := strings.ToValidUTF8(quoted, "\ufffd"); got.Quoted != want {
				t.Errorf("a string came through the header as %q, want %q", got.Quoted, want)
			}
			if len(got.Keys) != len(redisx.Families) {
				t.Errorf("prelude has %d key families, Go %d", len(got.Keys), len(redisx.Families))
			}
			for _, f := range redisx.Families {
				want := shard.Key(f)
				if f.HasID() {
					want = shard.KeyOf(f, "ID")
				}
				if got.Keys[f.Name()] != want {
					t.Errorf("K.%s = %q, Go builds %q", f.Name(), got.Keys[f.Name()], want)
				}
			}
			if got.Shards != redisx.Shards {
				t.Errorf("SHARDS = %d, Go %d", got.Shards, redisx.Shards)
			}
			if len(got.Sev) != len(alertgate.Severities) {
				t.Errorf("SEV has %d entries, want %d", len(got.Sev), len(alertgate.Severities))
			}
			for _, s := range alertgate.Severities {
				if got.Sev[string(s)] != s.Rank() {
					t.Errorf("SEV[%s] = %d, Go rank %d", s, got.Sev[string(s)], s.Rank())
				}
			}
			for _, s := range alertgate.IncidentStatuses {
				if got.St[string(s)] != string(s) {
					t.Errorf("ST[%s] = %q", s, got.St[string(s)])
				}
			}
			for _, e := range alertgate.TimelineEvents {
				if got.Ev[e] != e {
					t.Errorf("EV[%s] = %q", e, got.Ev[e])
				}
			}
			if got.Now != 1764072000123 || got.Actor != "user:a" || got.Extra != "named" {
				t.Errorf("header came through as now=%d actor=%q extra=%q", got.Now, got.Actor, got.Extra)
			}
		})
	}
}

func must(c redis.UniversalClient, _ string) redis.UniversalClient { return c }

func TestScriptErrorsAreInternal(t *testing.T) {
	c, _ := redistest.New(t)
	h := func() *redisx.Header { return redisx.NewHeader(redisx.NewLayout("p").Shard(0), time.Now(), "r", "") }
	broken := redisx.NewScript("broken", `return redis.call('NOSUCHCOMMAND')`)
	if _, err := broken.Run(t.Context(), c, []string{"k"}, h()); alertgate.ErrorCode(err) != alertgate.EINTERNAL {
		t.Fatalf("a failing script: %v (code %q), want internal", err, alertgate.ErrorCode(err))
	}
	short := redisx.NewScript("short", `return {'only one'}`)
	reply, err := short.Run(t.Context(), c, []string{"k"}, h())
	if err != nil {
		t.Fatal(err)
	}
	if r := short.ReadReply(reply, 2); alertgate.ErrorCode(r.Err()) != alertgate.EINTERNAL {
		t.Fatalf("a reply one value short: %v, want internal", r.Err())
	}
	r := short.ReadReply(reply, 1)
	if r.Int(0); alertgate.ErrorCode(r.Err()) != alertgate.EINTERNAL || !strings.Contains(r.Err().Error(), "short: reply: value 0") {
		t.Fatalf("a string read as a number: %v, want internal naming the script", r.Err())
	}
}

type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestTransient(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("wrapped: %w", syscall.ECONNRESET), true},
		{timeoutError{}, true},
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{context.DeadlineExceeded, true},
		{context.Canceled, true},
		{redis.ErrClosed, true},
		{redis.ErrPoolTimeout, true},
		{replyError("LOADING Redis is loading the dataset in memory"), true},
		{replyError("BUSY Redis is busy running a script"), true},
		{replyError("MASTERDOWN Link with MASTER is down"), true},
		{replyError("READONLY You can't write against a read only replica."), true},
		{replyError("CLUSTERDOWN The cluster is down"), true},
		{replyError("TRYAGAIN Multiple keys request during rehashing of slot"), true},
		{replyError("NOREPLICAS Not enough good replicas to write."), true},
		{replyError("MOVED 3999 127.0.0.1:6381"), true},
		{replyError("ASK 3999 127.0.0.1:6381"), true},
		{replyError("OOM command not allowed when used memory > 'maxmemory'."), true},
		{replyError("ERR max number of clients reached"), true},
		{replyError("ERR user_script:1: Script attempted to access nonexistent global variable"), false},
		{replyError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{replyError("NOSCRIPT No matching script"), false},
		{replyError("CROSSSLOT Keys in request don't hash to the same slot"), false},
		{errors.New("redis: can't marshal map[string]int"), false},
		{nil, false},
	} {
		if got := redisx.Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestWrap(t *testing.T) {
	if redisx.Wrap("op", nil) != nil {
		t.Fatal("Wrap(nil) is not nil")
	}
	err := redisx.Wrap("dedupe: ingest", timeoutError{})
	if alertgate.ErrorCode(err) != alertgate.EUNAVAILABLE || alertgate.ErrorMessage(err) != "redis unavailable" {
		t.Errorf("timeout: %v", err)
	}
	err = redisx.Wrap("dedupe: ingest", replyError("ERR user_script:3: boom"))
	if alertgate.ErrorCode(err) != alertgate.EINTERNAL || alertgate.ErrorMessage(err) != "internal error" {
		t.Errorf("script error: code %s message %q", alertgate.ErrorCode(err), alertgate.ErrorMessage(err))
	}
	if got, want := errors.Unwrap(err).Error(), "dedupe: ingest: ERR user_script:3: boom"; got != want {
		t.Errorf("cause %q, want %q (logs must name the script)", got, want)
	}
}
