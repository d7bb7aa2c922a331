package notify_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/notify"
)

// The fixtures every channel's golden files share for the message kinds
// beyond a page: a resolution notice and a digest.

// resolvedOf is the notice that p's incident resolved, made one minute
// before base's clock (At), with all of p's links still set, so a test
// sees that a channel shows only the open link.
func resolvedOf(p notify.Page) notify.Page {
	p.Kind = notify.KindResolved
	p.Key = p.Incident + ".1.resolved." + p.User
	p.Policy, p.Step, p.Repeat, p.Reason = "", 0, 0, ""
	return p
}

// digestItemTitles are the digest's items' titles, most urgent first; one
// needs escaping everywhere.
var digestItemTitles = []string{
	"Disk full on db-1 <&> \"quoted\"", "Checkout latency p99 over 2s", "Payment provider 5xx rate high",
	"Replica lag over 30s", "Queue depth growing", "Certificate expires in 7 days",
	"Pod restarts in payments", "Cache hit ratio low", "Cron job missed", "Backup older than a day",
	"Node memory pressure", "Slow queries on reports",
}

var digestItemSeverities = []alertgate.Severity{
	alertgate.SeverityCritical, alertgate.SeverityCritical, alertgate.SeverityError, alertgate.SeverityError,
	alertgate.SeverityWarning, alertgate.SeverityWarning, alertgate.SeverityWarning, alertgate.SeverityWarning,
	alertgate.SeverityWarning, alertgate.SeverityInfo, alertgate.SeverityInfo, alertgate.SeverityInfo,
}

// digestOf is a digest of n pages (n ≤ 12) about n incidents to base's
// contact, made at base.At; each item has its own links when links is
// true.
func digestOf(base notify.Page, n int, links bool) notify.Page {
	d := notify.Page{
		Kind: notify.KindDigest, Key: "digest." + base.User + ".1", User: base.User,
		Notifier: base.Notifier, Address: base.Address, At: base.At,
	}
	for i := range n {
		id := strconv.Itoa(100 + i)
		it := notify.Page{
			Key: id + ".1.0.0." + base.User, Incident: id, Title: digestItemTitles[i], Service: []string{"db", "checkout", "payments", ""}[i%4],
			Severity: digestItemSeverities[i], AlertCount: i + 1, Since: base.At.Add(-time.Duration(5+i) * time.Minute),
			Policy: "payments", Step: 1, User: base.User, Notifier: base.Notifier, Address: base.Address,
			Reason: "on call in rotation payments-primary", At: base.At,
		}
		if links {
			it.Links = notify.Links{
				Acknowledge: fmt.Sprintf("https://alertgate.example.com/a/ack-%s", id),
				Resolve:     fmt.Sprintf("https://alertgate.example.com/a/res-%s", id),
				Open:        fmt.Sprintf("https://alertgate.example.com/i/%s", id),
			}
		}
		d.Items = append(d.Items, it)
	}
	return d
}

// hugeDigest is a digest of 40 items whose every text and link is far
// over every channel's limits.
func hugeDigest() notify.Page {
	d := digestOf(chatPage(), 12, true)
	for len(d.Items) < 40 {
		d.Items = append(d.Items, d.Items[len(d.Items)%12])
	}
	for i := range d.Items {
		it := &d.Items[i]
		it.Incident, it.Key = strconv.Itoa(500+i), strconv.Itoa(500+i)+".1.0.0.alice"
		it.Title = strings.Repeat("é😀<&>", 1000)
		it.Service = strings.Repeat("s", 5000)
		long := "https://alertgate.example.com/a/" + strings.Repeat("x", 2500)
		it.Links = notify.Links{Acknowledge: long, Resolve: long, Open: long + "/open"}
	}
	return d
}

func TestNoticesOfferOnlyTheOpenLink(t *testing.T) {
	n := resolvedOf(chatPage())
	for name, body := range map[string][]byte{
		"slack":   chatJSON(t, notify.SlackMessage(n, hookNow)),
		"teams":   chatJSON(t, notify.TeamsMessage(n)),
		"discord": chatJSON(t, notify.DiscordMessage(n)),
		"webhook": chatJSON(t, notify.NewWebhookBody(n, hookNow)),
	} {
		s := string(body)
		if strings.Contains(s, "ack-token") || strings.Contains(s, "resolve-token") || !strings.Contains(s, n.Links.Open) {
			t.Errorf("%s: a notice must carry the open link and no other:\n%s", name, s)
		}
		if name != "webhook" && !strings.Contains(s, "[RESOLVED] Disk full on db-42") {
			t.Errorf("%s: no [RESOLVED] headline:\n%s", name, s)
		}
	}
	text, html, err := notify.EmailBodies(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{text, html} {
		if strings.Contains(s, "ack-token") || strings.Contains(s, "resolve-token") || !strings.Contains(s, "Resolved after 1m") {
			t.Errorf("email: %s", s)
		}
	}
	if s := notify.SMSBody(n, start); strings.Contains(s, "ack") || !strings.HasPrefix(s, "[RESOLVED] Disk full on db-42 - db - lasted 1m - #42") {
		t.Errorf("sms: %q", s)
	}
	if m := string(chatJSON(t, notify.TeamsMessage(n))); !strings.Contains(m, `"color":"Good"`) {
		t.Errorf("teams: a notice is green: %s", m)
	}
	if m := string(chatJSON(t, notify.DiscordMessage(n))); !strings.Contains(m, fmt.Sprintf(`"color":%d`, 0x57F287)) {
		t.Errorf("discord: a notice is green: %s", m)
	}
}

func TestWebhookKinds(t *testing.T) {
	p := hookPage(true)
	if b := notify.NewWebhookBody(p, hookNow); b.Kind != "page" || b.Items != nil || b.DurationSeconds != nil {
		t.Errorf("a page: kind %q, items %v, duration %v", b.Kind, b.Items, b.DurationSeconds)
	}
	n := resolvedOf(p)
	if b := notify.NewWebhookBody(n, hookNow); b.Kind != "resolved" || b.DurationSeconds == nil || *b.DurationSeconds != 94*60 ||
		b.Links == nil || b.Links.Acknowledge != "" || b.Links.Resolve != "" || b.Links.Open != p.Links.Open {
		t.Errorf("a notice: %+v", b)
	}
	n.Since = time.Time{}
	if b := notify.NewWebhookBody(n, hookNow); b.DurationSeconds != nil {
		t.Errorf("a notice of unknown duration says %d s", *b.DurationSeconds)
	}
	d := hugeDigest()
	b := notify.NewWebhookBody(d, hookNow)
	if b.Kind != "digest" || b.Severity != "critical" || b.Title != "40 incidents need attention" || len(b.Items) != 40 {
		t.Fatalf("a digest: kind %q severity %q title %q, %d items", b.Kind, b.Severity, b.Title, len(b.Items))
	}
	for i, it := range b.Items {
		if it.IdempotencyKey != d.Items[i].Key || it.IncidentID != d.Items[i].Incident || it.Links == nil {
			t.Errorf("item %d: %+v", i, it)
		}
	}
}

func TestDigestsStayWithinLimits(t *testing.T) {
	d := hugeDigest()

	var slack struct {
		Text   string
		Blocks []struct {
			Type string
			Text *struct{ Text string }
		}
	}
	raw := chatJSON(t, notify.SlackMessage(d, hookNow))
	if err := json.Unmarshal(raw, &slack); err != nil {
		t.Fatal(err)
	}
	sections := 0
	for _, b := range slack.Blocks {
		if b.Text != nil && utf16Len(b.Text.Text) > 3000 {
			t.Errorf("slack: a %s block of %d characters", b.Type, utf16Len(b.Text.Text))
		}
		if b.Type == "section" {
			sections++
		}
	}
	if len(slack.Blocks) > 50 || sections != notify.DigestMaxItems || !strings.Contains(string(raw), "and 30 more") {
		t.Errorf("slack: %d blocks, %d item sections; want ≤ 50, %d and \"and 30 more\"", len(slack.Blocks), sections, notify.DigestMaxItems)
	}
	if utf16Len(slack.Text) > 500 || !strings.HasPrefix(slack.Text, "40 incidents need you: [CRITICAL]") || !strings.HasSuffix(slack.Text, "and 39 more") {
		t.Errorf("slack fallback %q", slack.Text)
	}

	if teams := chatJSON(t, notify.TeamsMessage(d)); len(teams) > 28_000 || !strings.Contains(string(teams), "and 30 more") {
		t.Errorf("teams: %d bytes, want under 28 KB and \"and 30 more\"", len(teams))
	}

	m := discordDecodeAny(t, notify.DiscordMessage(d))
	total := 0
	for _, e := range m.Embeds {
		total += utf16Len(e.Title) + utf16Len(e.Description)
		if utf16Len(e.Title) > 256 || utf16Len(e.Description) > 4096 {
			t.Errorf("discord: embed title %d, description %d characters", utf16Len(e.Title), utf16Len(e.Description))
		}
	}
	if len(m.Embeds) > 10 || total > 6000 || !strings.HasPrefix(m.Embeds[len(m.Embeds)-1].Title, "and ") {
		t.Errorf("discord: %d embeds, %d characters; want ≤ 10, ≤ 6000, the last \"and N more\"", len(m.Embeds), total)
	}

	// Twelve ordinary items: nine embeds and "and 3 more", Discord's ten.
	m = discordDecodeAny(t, notify.DiscordMessage(digestOf(chatPage(), 12, true)))
	if len(m.Embeds) != 10 || m.Embeds[9].Title != "and 3 more" {
		t.Errorf("discord: %d embeds, the last %q; want 10, \"and 3 more\"", len(m.Embeds), m.Embeds[len(m.Embeds)-1].Title)
	}

	f := newPushFake(t)
	if _, err := newTelegram(t, f.URL).Notify(t.Context(), func() notify.Page { d.Address = "-100123"; return d }()); err != nil {
		t.Fatal(err)
	}
	var tg struct{ Text string }
	if err := json.Unmarshal([]byte(f.last(t).Body), &tg); err != nil {
		t.Fatal(err)
	}
	plain := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(tg.Text, "")
	plain = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&quot;", `"`).Replace(plain)
	if n := utf8.RuneCountInString(plain); n > 4096 || !strings.HasSuffix(tg.Text, "more") {
		t.Errorf("telegram: %d characters after parsing, want ≤ 4096 ending in \"and N more\"", n)
	}

	d.Address = "ops"
	if _, err := newNtfy(t, notify.NtfyOptions{BaseURL: f.URL}).Notify(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	var nt struct{ Title, Message string }
	if err := json.Unmarshal([]byte(f.last(t).Body), &nt); err != nil {
		t.Fatal(err)
	}
	if len(nt.Message) > 4096 || !utf8.ValidString(nt.Message) {
		t.Errorf("ntfy: a %d-byte message", len(nt.Message))
	}

	if s := notify.SMSBody(d, start); len(s) > 160 || !strings.HasPrefix(s, "40 incidents need you: [CRITICAL]") || !strings.HasSuffix(s, "and 39 more") {
		t.Errorf("sms: %d characters %q, want one segment with the count and the rest", len(s), s)
	}
}

// discordDecodeAny reads back any Discord message, however many embeds.
func discordDecodeAny(t *testing.T, msg any) discordSent {
	t.Helper()
	var m discordSent
	if err := json.Unmarshal(chatJSON(t, msg), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSMSReplyCode(t *testing.T) {
	p := pushPage("+15558675310", true)
	if got := notify.SMSBody(p, pushNow); strings.Contains(got, "Reply") {
		t.Errorf("replies off, yet %q", got)
	}
	p.ReplyCode = "1"
	if got := notify.SMSBody(p, pushNow); !strings.HasSuffix(got, "\nack: https://alertgate.example.com/a/tok-ack\nReply 1a ack, 1r resolve") {
		t.Errorf("reply code 1: %q", got)
	}
	p.ReplyCode = "1\nSTOP"
	if got := notify.SMSBody(p, pushNow); strings.Contains(got, "Reply") || strings.Contains(got, "STOP") {
		t.Errorf("a reply code that is not letters and digits is not shown: %q", got)
	}
	// A link that would need a second segment gives way to the reply.
	p.ReplyCode = "7"
	p.Links.Acknowledge = "https://alertgate.example.com/a/" + strings.Repeat("x", 120)
	if got := notify.SMSBody(p, pushNow); len(got) > 160 || strings.Contains(got, "ack: ") || !strings.HasSuffix(got, "\nReply 7a ack, 7r resolve") {
		t.Errorf("a long link and a reply code: %d characters %q", len(got), got)
	}
	// UCS-2: 70 units, too few to keep the facts after a cut title: the
	// text is cut, the reply hint stays.
	p = pushPage("+15558675310", false)
	p.ReplyCode, p.Title = "1", "Диск переполнен на основном сервере базы данных db-1"
	if got := notify.SMSBody(p, pushNow); utf16Units(got) > 70 || !strings.HasSuffix(got, "…\nReply 1a ack, 1r resolve") {
		t.Errorf("a Cyrillic title and a reply code: %d units %q", utf16Units(got), got)
	}
}

func TestEmailThreadsNoticesNotDigests(t *testing.T) {
	n := parseEmail(t, sendEmail(t, resolvedOf(emailLinked(page("42", "alice")))).Data)
	if n.header.Get("In-Reply-To") != "<incident-42@example.com>" || n.header.Get("References") != "<incident-42@example.com>" ||
		n.header.Get("Subject") != "[RESOLVED] Disk full on db-42 #42" {
		t.Errorf("a notice: %v", n.header)
	}
	d := parseEmail(t, sendEmail(t, digestOf(emailLinked(page("42", "alice")), 12, true)).Data)
	if d.header.Get("In-Reply-To") != "" || d.header.Get("References") != "" || d.header.Get("Subject") != "[CRITICAL] 12 incidents need attention" {
		t.Errorf("a digest: %v", d.header)
	}
	if !strings.Contains(d.text, "10. [INFO] Backup older than a day") || strings.Contains(d.text, "Node memory pressure") || !strings.Contains(d.text, "and 2 more") {
		t.Errorf("digest text:\n%s", d.text)
	}
}

// A flapping incident's one page is a page — every link — headed as
// flapping, in every channel.
func TestFlappingPageIsAPageHeadedFlapping(t *testing.T) {
	p := chatPage()
	p.Kind = notify.KindFlapping
	if !p.IsPage() {
		t.Fatal("a flapping page is not a page")
	}
	for name, body := range map[string][]byte{
		"slack":   chatJSON(t, notify.SlackMessage(p, hookNow)),
		"teams":   chatJSON(t, notify.TeamsMessage(p)),
		"discord": chatJSON(t, notify.DiscordMessage(p)),
	} {
		s := string(body)
		if !strings.Contains(s, "[FLAPPING] Disk full on db-42") || !strings.Contains(s, p.Links.Acknowledge) {
			t.Errorf("%s: want the [FLAPPING] headline and the acknowledge link:\n%s", name, s)
		}
	}
	if s := notify.SMSBody(p, start); !strings.HasPrefix(s, "[FLAPPING] ") {
		t.Errorf("SMS %q, want the [FLAPPING] headline", s)
	}
	if b := chatJSON(t, notify.NewWebhookBody(p, hookNow)); !strings.Contains(string(b), `"kind":"flapping"`) {
		t.Errorf("webhook body %s, want kind flapping", b)
	}
}
