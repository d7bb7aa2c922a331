package redisx

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Whatever a string holds, the header carries it as valid JSON that
// decodes to the same text (invalid UTF-8 as U+FFFD, byte by byte).
func FuzzHeaderString(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "new\nline\ttab\x00nul\x1f", "ünïcödé ✓ 🚨", "\xff\xfe bad", "\u2028\u2029", "a\x7fb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw := NewHeader(NewLayout("p").Shard(1), time.UnixMilli(5), "r", "a").Str("s", s).Int("n", -7).Bool("b", true).Bytes()
		var got struct {
			Base, Req, Actor, S string
			Now, N              int64
			B                   bool
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("header %q is not JSON: %v", raw, err)
		}
		var want strings.Builder
		for _, r := range s {
			want.WriteRune(r)
		}
		if got.S != want.String() || got.Base != "p:v1:{s1}:" || got.Now != 5 || got.Req != "r" || got.Actor != "a" || got.N != -7 || !got.B {
			t.Fatalf("header %q decoded as %+v, want s=%q", raw, got, want.String())
		}
	})
}
