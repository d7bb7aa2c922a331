package smsreply

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/notify"
)

const alice = "+15005550006"

// clock is a settable clock for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newStore(t *testing.T) (*Store, *clock) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	return New(rdb, prefix, Options{Now: c.Now, TTL: time.Hour}), c
}

func page(incident string, epoch, step int) notify.Page {
	return notify.Page{
		Key:      fmt.Sprintf("%s.%d.0.%d.alice", incident, epoch, step),
		Incident: incident, Title: "Disk full on db-" + incident, Epoch: epoch, Step: step,
		User: "alice", Notifier: "sms", Address: alice,
	}
}

func mustAssign(t *testing.T, s *Store, p notify.Page) string {
	t.Helper()
	code, err := s.Assign(t.Context(), p)
	if err != nil {
		t.Fatalf("Assign(%s): %v", p.Key, err)
	}
	return code
}

func TestAssignCodes(t *testing.T) {
	s, _ := newStore(t)
	if got := mustAssign(t, s, page("42", 1, 1)); got != "1" {
		t.Fatalf("first code = %q, want 1", got)
	}
	if got := mustAssign(t, s, page("42", 1, 1)); got != "1" {
		t.Errorf("same page again = %q, want 1", got)
	}
	if got := mustAssign(t, s, page("43", 1, 1)); got != "2" {
		t.Errorf("second incident = %q, want 2", got)
	}
	// The next step of 42 pages the same number: its code, not a third.
	if got := mustAssign(t, s, page("42", 1, 2)); got != "1" {
		t.Errorf("next step of 42 = %q, want 1", got)
	}
	// Another number has codes of its own.
	other := page("43", 1, 1)
	other.Address = "+15005550007"
	if got := mustAssign(t, s, other); got != "1" {
		t.Errorf("other number = %q, want 1", got)
	}
	live, err := s.Live(t.Context(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 2 || live[0].Code != "1" || live[0].Incident != "42" || live[0].Step != 2 ||
		live[1].Code != "2" || live[1].Incident != "43" {
		t.Errorf("live = %+v", live)
	}
	a, ok, err := s.Lookup(t.Context(), alice, "1")
	if err != nil || !ok {
		t.Fatalf("Lookup 1 = %v, %v", ok, err)
	}
	if a.Incident != "42" || a.User != "alice" || a.Epoch != 1 || a.Notifier != "sms" || a.PageKey != "42.1.0.2.alice" ||
		a.Title != "Disk full on db-42" || a.ID == "" {
		t.Errorf("Lookup 1 = %+v", a)
	}
	for _, code := range []string{"3", "0", "", "1a", "100", "x"} {
		if _, ok, err := s.Lookup(t.Context(), alice, code); ok || err != nil {
			t.Errorf("Lookup(%q) = %v, %v; want not found", code, ok, err)
		}
	}
}

func TestAssignEpochs(t *testing.T) {
	s, _ := newStore(t)
	mustAssign(t, s, page("42", 1, 1))
	first, _, _ := s.Lookup(t.Context(), alice, "1")
	mustAssign(t, s, page("42", 1, 2))
	same, _, _ := s.Lookup(t.Context(), alice, "1")
	if same.ID != first.ID {
		t.Errorf("a later step of the same epoch changed the assignment id")
	}
	// The incident reopened: epoch 2 takes the code over with a new id,
	// so its nonces are fresh.
	if got := mustAssign(t, s, page("42", 2, 1)); got != "1" {
		t.Fatalf("epoch 2 = %q, want 1", got)
	}
	second, _, _ := s.Lookup(t.Context(), alice, "1")
	if second.ID == first.ID || second.Epoch != 2 {
		t.Errorf("epoch 2 assignment = %+v, first %+v", second, first)
	}
	if first.Nonce(alice, dedupe.Acknowledge) == second.Nonce(alice, dedupe.Acknowledge) {
		t.Error("nonce survives a new epoch")
	}
	// A late retry of an epoch-1 page changes nothing.
	if got := mustAssign(t, s, page("42", 1, 3)); got != "1" {
		t.Fatalf("late epoch 1 = %q, want 1", got)
	}
	if after, _, _ := s.Lookup(t.Context(), alice, "1"); after != second {
		t.Errorf("late epoch-1 page changed the assignment: %+v, want %+v", after, second)
	}
}

func TestAssignExpiry(t *testing.T) {
	s, c := newStore(t)
	mustAssign(t, s, page("42", 1, 1))
	c.Add(30 * time.Minute)
	mustAssign(t, s, page("43", 1, 1))
	c.Add(31 * time.Minute) // 42's code has expired, 43's has not
	if _, ok, _ := s.Lookup(t.Context(), alice, "1"); ok {
		t.Error("expired code found")
	}
	live, err := s.Live(t.Context(), alice)
	if err != nil || len(live) != 1 || live[0].Code != "2" {
		t.Fatalf("live = %+v, %v", live, err)
	}
	// The lowest free code is 1 again.
	if got := mustAssign(t, s, page("44", 1, 1)); got != "1" {
		t.Errorf("after expiry = %q, want 1", got)
	}
	// Sending the page again keeps its code alive from now.
	c.Add(50 * time.Minute)
	if got := mustAssign(t, s, page("43", 1, 2)); got != "2" {
		t.Errorf("43 again = %q, want 2", got)
	}
	c.Add(50 * time.Minute)
	if _, ok, _ := s.Lookup(t.Context(), alice, "2"); !ok {
		t.Error("a code sent again expired from its first sending")
	}
	// The hash itself expires with its newest code.
	ttl, err := s.rdb.PTTL(t.Context(), s.codesKey(alice)).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("PTTL = %v, %v", ttl, err)
	}
}

func TestAssignFull(t *testing.T) {
	s, _ := newStore(t)
	for i := 1; i <= MaxCode; i++ {
		if got, want := mustAssign(t, s, page(fmt.Sprint(1000+i), 1, 1)), fmt.Sprint(i); got != want {
			t.Fatalf("incident %d: code %q, want %q", 1000+i, got, want)
		}
	}
	if got := mustAssign(t, s, page("9999", 1, 1)); got != "" {
		t.Errorf("100th incident got code %q, want none", got)
	}
	if got := mustAssign(t, s, page("1050", 1, 2)); got != "50" {
		t.Errorf("a live incident's code = %q, want 50", got)
	}
}

func TestAssignConcurrent(t *testing.T) {
	s, _ := newStore(t)
	// Many replicas assigning at once never give two incidents one code.
	var wg sync.WaitGroup
	codes := make([]string, 20)
	for i := range codes {
		wg.Go(func() {
			code, err := s.Assign(t.Context(), page(fmt.Sprint(100+i%10), 1, 1+i/10))
			if err != nil {
				t.Error(err)
			}
			codes[i] = code
		})
	}
	wg.Wait()
	byCode := map[string]int{}
	for i, code := range codes {
		if prev, ok := byCode[code]; ok && prev%10 != i%10 {
			t.Errorf("code %s given to incidents %d and %d", code, 100+prev%10, 100+i%10)
		}
		byCode[code] = i
	}
	if len(byCode) != 10 {
		t.Errorf("%d codes for 10 incidents: %v", len(byCode), codes)
	}
}

func TestAssignRefusesIncompletePage(t *testing.T) {
	s, _ := newStore(t)
	p := page("42", 1, 1)
	p.Address = ""
	if _, err := s.Assign(t.Context(), p); err == nil {
		t.Error("a page without an address got a code")
	}
}

func TestKeysHaveTheNumbersHashTag(t *testing.T) {
	k := KeyBase("ag", alice)
	if !strings.HasPrefix(k, "ag:v1:{sms:") || !strings.HasSuffix(k, "}:") || strings.Contains(k, alice) {
		t.Errorf("KeyBase = %q", k)
	}
	if KeyBase("ag", alice) == KeyBase("ag", "+15005550007") {
		t.Error("two numbers share a key")
	}
}

func TestMatch(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	m, err := s.Match(ctx, alice, "a")
	if err != nil || m.Assignment != nil || len(m.Live) != 0 || !m.Understood {
		t.Fatalf("no codes: %+v, %v", m, err)
	}
	if got := Help(m); got != "alertgate has no open pages for this number." {
		t.Errorf("Help = %q", got)
	}
	mustAssign(t, s, page("42", 1, 1))
	m, _ = s.Match(ctx, alice, "a")
	if m.Assignment == nil || m.Assignment.Incident != "42" || m.Reply.Action != dedupe.Acknowledge {
		t.Errorf("bare a with one code: %+v", m)
	}
	mustAssign(t, s, page("43", 1, 1))
	m, _ = s.Match(ctx, alice, "r")
	if m.Assignment != nil {
		t.Errorf("bare r with two codes matched %+v", m.Assignment)
	}
	if got, want := Help(m), "Several pages are open; say which.\nReply 1a to acknowledge or 1r to resolve #42 Disk full on db-42\n"+
		"Reply 2a to acknowledge or 2r to resolve #43 Disk full on db-43"; got != want {
		t.Errorf("Help = %q\nwant   %q", got, want)
	}
	m, _ = s.Match(ctx, alice, " 2R ")
	if m.Assignment == nil || m.Assignment.Incident != "43" || m.Reply.Action != dedupe.Resolve {
		t.Errorf("2R: %+v", m)
	}
	m, _ = s.Match(ctx, alice, "7a")
	if m.Assignment != nil || !strings.HasPrefix(Help(m), "Code 7 is unknown or expired.\nReply 1a") {
		t.Errorf("7a: %+v, %q", m, Help(m))
	}
	m, _ = s.Match(ctx, alice, "1")
	if got, want := Help(m), "Reply 1a to acknowledge or 1r to resolve #42 Disk full on db-42"; m.Assignment == nil || got != want {
		t.Errorf("1: %q", got)
	}
	m, _ = s.Match(ctx, alice, "what?")
	if m.Understood || !strings.HasPrefix(Help(m), "Sorry, that is not a reply alertgate understands.\nReply 1a") {
		t.Errorf("what?: %+v %q", m, Help(m))
	}
	m, _ = s.Match(ctx, alice, "STOP")
	if !m.Reply.Keyword || m.Live != nil {
		t.Errorf("STOP: %+v", m)
	}
	m, _ = s.Match(ctx, "+15005550007", "1a")
	if m.Assignment != nil {
		t.Errorf("another number's 1a matched %+v", m.Assignment)
	}
}

func TestHelpIsShort(t *testing.T) {
	live := make([]Assignment, 9)
	for i := range live {
		live[i] = Assignment{Code: fmt.Sprint(i + 1), Incident: fmt.Sprint(100 + i), Title: strings.Repeat("long title ", 20)}
	}
	h := Help(Match{Understood: true, Reply: Reply{Code: "12", Action: dedupe.Acknowledge}, Live: live})
	if n := strings.Count(h, "\n"); n != 6 || !strings.HasSuffix(h, "…and 4 more") {
		t.Errorf("Help lists %d lines:\n%s", n, h)
	}
	if len([]rune(h)) > 1600 {
		t.Errorf("Help is %d characters, over Twilio's 1600", len([]rune(h)))
	}
}
