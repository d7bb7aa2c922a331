package actionlink_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/actionlink"
	"github.com/alertgate/alertgate/notify"
)

var (
	secretA = bytes.Repeat([]byte("a"), 32)
	secretB = bytes.Repeat([]byte("b"), 40)
	start   = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSigner(t *testing.T, c *clock, keys ...actionlink.Key) *actionlink.Signer {
	t.Helper()
	if len(keys) == 0 {
		keys = []actionlink.Key{{ID: "2026-12", Secret: secretA}}
	}
	s, err := actionlink.NewSigner(keys, 24*time.Hour, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignVerifyRoundTrip(t *testing.T) {
	c := &clock{start}
	s := newSigner(t, c)
	in := actionlink.Claims{Incident: "1234", Action: actionlink.Acknowledge, User: "alice", Epoch: 3, Step: 2}
	tok, err := s.Sign(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) > 160 {
		t.Errorf("token is %d characters, want a compact one: %s", len(tok), tok)
	}
	if url.PathEscape(tok) != tok {
		t.Errorf("token %q needs escaping in a URL path", tok)
	}
	got, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Expires = start.Add(24 * time.Hour)
	want.Nonce = got.Nonce
	if got != want {
		t.Errorf("Verify = %+v, want %+v", got, want)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(got.Nonce); err != nil || len(raw) != actionlink.NonceSize {
		t.Errorf("nonce %q is not %d random bytes", got.Nonce, actionlink.NonceSize)
	}
	tok2, _ := s.Sign(in)
	if tok2 == tok {
		t.Error("two tokens for the same claims are equal: the nonce is not fresh")
	}
}

func TestVerifyErrors(t *testing.T) {
	c := &clock{start}
	s := newSigner(t, c)
	tok, err := s.Sign(actionlink.Claims{Incident: "7", Action: actionlink.Resolve, User: "bob", Epoch: 1, Step: 1})
	if err != nil {
		t.Fatal(err)
	}
	id, rest, _ := strings.Cut(tok, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	other := newSigner(t, c, actionlink.Key{ID: "2026-12", Secret: secretB})
	forged, _ := other.Sign(actionlink.Claims{Incident: "7", Action: actionlink.Resolve, User: "bob", Epoch: 1})
	flipped := []byte(payload)
	flipped[3] ^= 'A' ^ 'B'
	if flipped[3] == payload[3] {
		flipped[3] = 'Q'
	}
	cases := []struct {
		name, token string
		want        error
	}{
		{"empty", "", actionlink.ErrMalformed},
		{"one part", "abc", actionlink.ErrMalformed},
		{"two parts", id + "." + payload, actionlink.ErrMalformed},
		{"four parts", tok + ".x", actionlink.ErrMalformed},
		{"bad base64", id + ".!!!." + sig, actionlink.ErrMalformed},
		{"short signature", id + "." + payload + "." + sig[:20], actionlink.ErrMalformed},
		{"bad key id", "a/b." + payload + "." + sig, actionlink.ErrMalformed},
		{"padding", id + "." + payload + "=." + sig, actionlink.ErrMalformed},
		{"huge", strings.Repeat("a", 5000), actionlink.ErrMalformed},
		{"unknown key", "2025-01." + payload + "." + sig, actionlink.ErrUnknownKey},
		{"tampered claims", id + "." + string(flipped) + "." + sig, actionlink.ErrBadSignature},
		{"forged with another secret", forged, actionlink.ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Verify(tc.token); !errors.Is(err, tc.want) {
				t.Errorf("Verify(%q) = %v, want %v", tc.token, err, tc.want)
			}
		})
	}

	c.t = start.Add(24*time.Hour - time.Second)
	if _, err := s.Verify(tok); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	c.t = start.Add(24 * time.Hour)
	got, err := s.Verify(tok)
	if !errors.Is(err, actionlink.ErrExpired) {
		t.Fatalf("at expiry: %v, want ErrExpired", err)
	}
	if got.Incident != "7" {
		t.Errorf("an expired token's claims = %+v, want them returned", got)
	}
}

func TestKeyRotation(t *testing.T) {
	c := &clock{start}
	old := newSigner(t, c, actionlink.Key{ID: "old", Secret: secretA})
	rotated := newSigner(t, c, actionlink.Key{ID: "new", Secret: secretB}, actionlink.Key{ID: "old", Secret: secretA})
	claims := actionlink.Claims{Incident: "1", Action: actionlink.Open, User: "alice"}
	oldTok, _ := old.Sign(claims)
	if _, err := rotated.Verify(oldTok); err != nil {
		t.Errorf("a token of the old key after rotation: %v", err)
	}
	newTok, _ := rotated.Sign(claims)
	if !strings.HasPrefix(newTok, "new.") {
		t.Errorf("the rotated signer signs with %q, want the first key", newTok)
	}
	if _, err := old.Verify(newTok); !errors.Is(err, actionlink.ErrUnknownKey) {
		t.Errorf("the old signer on a new token: %v, want ErrUnknownKey", err)
	}
	retired := newSigner(t, c, actionlink.Key{ID: "new", Secret: secretB})
	if _, err := retired.Verify(oldTok); !errors.Is(err, actionlink.ErrUnknownKey) {
		t.Errorf("a token of a removed key: %v, want ErrUnknownKey", err)
	}
}

func TestNewSignerRefuses(t *testing.T) {
	cases := map[string][]actionlink.Key{
		"no keys":      nil,
		"short secret": {{ID: "k", Secret: []byte("short")}},
		"empty id":     {{ID: "", Secret: secretA}},
		"id with dot":  {{ID: "a.b", Secret: secretA}},
		"duplicate":    {{ID: "k", Secret: secretA}, {ID: "k", Secret: secretB}},
	}
	for name, keys := range cases {
		if _, err := actionlink.NewSigner(keys, time.Hour, nil); err == nil {
			t.Errorf("%s: NewSigner accepted %v", name, keys)
		}
	}
	if _, err := actionlink.NewSigner([]actionlink.Key{{ID: "k", Secret: secretA}}, 0, nil); err == nil {
		t.Error("NewSigner accepted a zero TTL")
	}
}

func TestSignRefuses(t *testing.T) {
	s := newSigner(t, &clock{start})
	for name, c := range map[string]actionlink.Claims{
		"no action":   {Incident: "1", User: "a"},
		"bad action":  {Incident: "1", User: "a", Action: "delete"},
		"no incident": {User: "a", Action: actionlink.Open},
		"no user":     {Incident: "1", Action: actionlink.Open},
		"long user":   {Incident: "1", User: strings.Repeat("u", 200), Action: actionlink.Open},
		"bad nonce":   {Incident: "1", User: "a", Action: actionlink.Open, Nonce: "xyz"},
	} {
		if tok, err := s.Sign(c); err == nil {
			t.Errorf("%s: Sign = %q, want an error", name, tok)
		}
	}
}

func TestFormToken(t *testing.T) {
	s := newSigner(t, &clock{start})
	tok, _ := s.Sign(actionlink.Claims{Incident: "1", Action: actionlink.Acknowledge, User: "alice"})
	other, _ := s.Sign(actionlink.Claims{Incident: "1", Action: actionlink.Acknowledge, User: "alice"})
	f := s.FormToken(tok)
	if f == "" || !s.CheckFormToken(tok, f) {
		t.Fatalf("the form token of a token does not check: %q", f)
	}
	for name, field := range map[string]string{"empty": "", "other token's": s.FormToken(other), "the token itself": tok} {
		if s.CheckFormToken(tok, field) {
			t.Errorf("%s form field accepted", name)
		}
	}
	if s.FormToken("nokey.x.y") != "" {
		t.Error("a form token for an unknown key")
	}
}

func TestPageLinks(t *testing.T) {
	c := &clock{start}
	s := newSigner(t, c)
	page := notify.Page{Incident: "42", User: "alice", Step: 2, Epoch: 5, Notifier: "slack"}
	l, err := s.PageLinks("https://gate.example.com/", page)
	if err != nil {
		t.Fatal(err)
	}
	check := func(link string, want actionlink.Action, user string) {
		t.Helper()
		tok, ok := strings.CutPrefix(link, "https://gate.example.com/a/")
		if !ok {
			t.Fatalf("link %q is not under <public_url>/a/", link)
		}
		got, err := s.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if got.Action != want || got.Incident != "42" || got.User != user || got.Epoch != 5 || got.Step != 2 {
			t.Errorf("link %s claims %+v, want %s for %s", link, got, want, user)
		}
	}
	check(l.Acknowledge, actionlink.Acknowledge, "alice")
	check(l.Resolve, actionlink.Resolve, "alice")
	check(l.Open, actionlink.Open, "alice")

	page.User = ""
	l, _ = s.PageLinks("https://gate.example.com", page)
	check(l.Acknowledge, actionlink.Acknowledge, "#slack")

	page.Kind = notify.KindResolved
	l, _ = s.PageLinks("https://gate.example.com", page)
	if l.Acknowledge != "" || l.Resolve != "" || l.Open == "" {
		t.Errorf("a resolution notice's links = %+v, want only Open", l)
	}
}
