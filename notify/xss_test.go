package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/alertgate/alertgate/notify"
)

// Issue 9: whatever a sender puts in an alert, every channel shows it as
// text. The corpus below is what an attacker (or a careless exporter)
// puts in titles, services, reasons and digest items; each test renders
// every message kind with it and checks that nothing turned into markup,
// a link, a mention or a header.

// hostileCorpus: one entry per trick.
var hostileCorpus = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`<a href="javascript:alert(1)">click</a>`,
	`javascript:alert(1)`,
	`&lt;script&gt; &amp; &#60;b&#62; &quot;`,
	// Slack mrkdwn control sequences.
	`<!channel> <!here> <!everyone> <@U123> <#C123> <!subteam^S123>`,
	`<http://evil.example|click> <javascript:alert(1)|x>`,
	// Markdown (Teams, Discord) and Telegram MarkdownV2 specials.
	`[click](javascript:alert(1)) [x](http://evil.example) ![i](http://evil.example/i.png)`,
	`<javascript:alert(1)> <http://evil.example>`,
	`*bold* _it_ ~s~ ` + "`code`" + ` ||spoiler|| > quote # h \[x\](y) \\[x](javascript:y)`,
	// Zero-width characters and the right-to-left override.
	"in\u200bvis\u200dible \u202egnp.exe\u202c \ufeff",
	// Header injection and other control characters.
	"subject\r\nBcc: victim@example.com\r\n\r\nbody",
	"nul\x00 bell\x07 esc\x1b[31m del\x7f nel\u0085 ls\u2028 ps\u2029",
	strings.Repeat("<&>", 3000),
}

// hostilePages are a page, a resolution notice and a digest, each with
// the hostile text s wherever a sender's text goes.
func hostilePages(s string) map[string]notify.Page {
	p := chatPage()
	p.Title, p.Service, p.Reason = "T "+s, "S "+s, "R "+s
	d := digestOf(chatPage(), 12, true)
	for i := range d.Items {
		d.Items[i].Title, d.Items[i].Service = "T "+s, "S "+s
	}
	return map[string]notify.Page{"page": p, "resolved": resolvedOf(p), "digest": d}
}

// forHostile runs check for every corpus entry and message kind.
func forHostile(t *testing.T, check func(t *testing.T, kind string, p notify.Page)) {
	for i, s := range hostileCorpus {
		for kind, p := range hostilePages(s) {
			t.Run(fmt.Sprintf("%s/%02d", kind, i), func(t *testing.T) { check(t, kind, p) })
		}
	}
}

// jsonStrings calls fn with every string value of the JSON document b,
// and the key it is under.
func jsonStrings(t *testing.T, b []byte, fn func(key, value string)) {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				walk(k, c)
			}
		case []any:
			for _, c := range v {
				walk(key, c)
			}
		case string:
			fn(key, v)
		}
	}
	walk("", v)
}

// ourLink: links in messages are alertgate's own (the test pages' links).
func ourLink(u string) bool {
	return strings.HasPrefix(u, "https://alertgate.example.com/")
}

// hasControl reports a control character; newline is allowed where the
// channel itself uses it to lay out lines.
func hasControl(s string, newline bool) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && (r != '\n' || !newline)
	})
}

// slackToken is every <…> sequence mrkdwn parses: the only ones allowed
// are our own date tokens and links to alertgate.
var (
	slackToken  = regexp.MustCompile(`<[^<>]*>`)
	slackOurs   = regexp.MustCompile(`^<(!date\^\d+\^\{date_short_pretty\} \{time\}\||https://alertgate\.example\.com/[^|<>]*\|)[^<>]*>$`)
	slackEntity = regexp.MustCompile(`&(amp|lt|gt);`)
)

func TestHostileTextSlack(t *testing.T) {
	forHostile(t, func(t *testing.T, kind string, p notify.Page) {
		texts := 0
		slackTexts(t, chatJSON(t, notify.SlackMessage(p, hookNow)), func(mrkdwn bool, v string) {
			texts++
			if mrkdwn {
				slackMrkdwnInert(t, kind, v)
			}
			if hasControl(v, mrkdwn) {
				t.Errorf("%s: control character in %q", kind, v)
			}
		})
		if texts < 3 {
			t.Fatalf("%s: %d texts in the message", kind, texts)
		}
	})
}

// slackTexts calls fn with each text of a Block Kit payload: the
// fallback and every mrkdwn text object (which Slack parses), and every
// plain_text one (which it shows as written).
func slackTexts(t *testing.T, b []byte, fn func(mrkdwn bool, text string)) {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if text, ok := v["text"].(string); ok {
				typ, _ := v["type"].(string)
				fn(typ != "plain_text", text)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(v)
}

// slackMrkdwnInert: every <…> is one of ours (a date, a link to
// alertgate), no other "<" or ">" is left, and every "&" starts one of
// the three entities Slack knows; so no mention, link or entity trick.
func slackMrkdwnInert(t reporter, kind, v string) {
	t.Helper()
	for _, tok := range slackToken.FindAllString(v, -1) {
		if !slackOurs.MatchString(tok) {
			t.Errorf("%s: mrkdwn token %q in %q", kind, tok, v)
		}
	}
	rest := slackToken.ReplaceAllString(v, "")
	if strings.ContainsAny(rest, "<>") {
		t.Errorf("%s: raw < or > in %q", kind, v)
	}
	if strings.Count(rest, "&") != len(slackEntity.FindAllString(rest, -1)) {
		t.Errorf("%s: raw & in %q", kind, v)
	}
}

// mdLink is a markdown inline link's target, autolink or image.
var (
	mdLink     = regexp.MustCompile(`\]\(([^)]*)\)`)
	mdAutolink = regexp.MustCompile(`<[A-Za-z][A-Za-z0-9+.-]{1,31}:`)
)

// unescapedAt reports whether s[i] is not preceded by an odd number of
// backslashes (a CommonMark escape).
func unescapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 0
}

// markdownLinks are the targets of the inline links, images and
// autolinks that a CommonMark renderer would make of s.
func markdownLinks(s string) []string {
	var out []string
	for _, m := range mdLink.FindAllStringSubmatchIndex(s, -1) {
		if unescapedAt(s, m[0]) && unescapedAt(s, m[0]+1) {
			out = append(out, s[m[2]:m[3]])
		}
	}
	for _, m := range mdAutolink.FindAllStringIndex(s, -1) {
		if unescapedAt(s, m[0]) {
			out = append(out, s[m[0]:m[1]])
		}
	}
	return out
}

func TestHostileTextTeams(t *testing.T) {
	forHostile(t, func(t *testing.T, kind string, p notify.Page) {
		jsonStrings(t, chatJSON(t, notify.TeamsMessage(p)), func(key, v string) {
			switch key {
			case "text", "value", "title":
				for _, target := range markdownLinks(v) {
					if !ourLink(target) {
						t.Errorf("%s: markdown link to %q in %q", kind, target, v)
					}
				}
				if hasControl(v, false) {
					t.Errorf("%s: control character in %q", kind, v)
				}
			case "url":
				if !ourLink(v) {
					t.Errorf("%s: action to %q", kind, v)
				}
			}
		})
	})
}

func TestHostileTextDiscord(t *testing.T) {
	forHostile(t, func(t *testing.T, kind string, p notify.Page) {
		b := chatJSON(t, notify.DiscordMessage(p))
		if !strings.Contains(string(b), `"allowed_mentions":{"parse":[]}`) {
			t.Errorf("%s: mentions not disabled: %s", kind, b)
		}
		jsonStrings(t, b, func(key, v string) {
			switch key {
			case "content", "value", "description":
				for _, target := range markdownLinks(v) {
					if !ourLink(target) {
						t.Errorf("%s: markdown link to %q in %q", kind, target, v)
					}
				}
				if hasControl(v, key == "description") {
					t.Errorf("%s: control character in %q", kind, v)
				}
			case "url":
				if !ourLink(v) {
					t.Errorf("%s: link to %q", kind, v)
				}
			}
		})
	})
}

func TestHostileTextTelegram(t *testing.T) {
	f := newPushFake(t)
	n := newTelegram(t, f.URL)
	forHostile(t, func(t *testing.T, kind string, p notify.Page) {
		p.Address = "-1001234567890"
		if _, err := n.Notify(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		var m struct {
			Text      string `json:"text"`
			ParseMode string `json:"parse_mode"`
		}
		if err := json.Unmarshal([]byte(f.last(t).Body), &m); err != nil {
			t.Fatal(err)
		}
		if m.ParseMode != "HTML" {
			t.Fatalf("parse mode %q: these checks are for HTML", m.ParseMode)
		}
		// Telegram's HTML mode: the only tags are ours (b and a to
		// alertgate), the only entities the four it knows.
		telegramHTMLInert(t, kind, m.Text)
	})
}

var (
	telegramTag    = regexp.MustCompile(`<[^>]*>`)
	telegramOurTag = regexp.MustCompile(`^(<b>|</b>|</a>|<a href="https://alertgate\.example\.com/[^"<>]*">)$`)
	telegramEntity = regexp.MustCompile(`&(amp|lt|gt|quot);`)
)

func telegramHTMLInert(t reporter, kind, text string) {
	t.Helper()
	for _, tag := range telegramTag.FindAllString(text, -1) {
		if !telegramOurTag.MatchString(tag) {
			t.Errorf("%s: tag %q in %q", kind, tag, text)
		}
	}
	rest := telegramTag.ReplaceAllString(text, "")
	if strings.ContainsAny(rest, "<>") || strings.Count(rest, "&") != len(telegramEntity.FindAllString(rest, -1)) {
		t.Errorf("%s: raw <, > or & in %q", kind, text)
	}
	// Control characters are not checked: Telegram passes sender text's
	// newlines and other control characters through as written (they
	// are not markup in HTML mode).
}

func TestHostileTextEmail(t *testing.T) {
	forHostile(t, func(t *testing.T, kind string, p notify.Page) {
		if s := notify.EmailSubject(p); strings.ContainsAny(s, "\r\n") || hasControl(s, false) {
			t.Errorf("%s: subject %q", kind, s)
		}
		text, body, err := notify.EmailBodies(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, "\r") || hasControl(text, true) {
			t.Errorf("%s: control character in the text part %q", kind, text)
		}
		htmlInert(t, kind, body)
	})
}

// htmlInert checks body tag by tag (golang.org/x/net/html is not a
// dependency): every tag must be one the template writes, with only the
// attributes it writes, links only to alertgate; and no "<" or ">" is
// left outside a tag, so no text can open an element of its own.
func htmlInert(t reporter, kind, body string) {
	t.Helper()
	for _, m := range htmlTag.FindAllStringSubmatch(body, -1) {
		tag, name, attrs := m[0], strings.ToLower(m[1]), m[2]
		if !emailTags[name] {
			t.Errorf("%s: <%s> element: %q", kind, name, tag)
		}
		rest := htmlAttr.ReplaceAllStringFunc(attrs, func(a string) string {
			kv := htmlAttr.FindStringSubmatch(a)
			switch key := strings.ToLower(kv[1]); {
			case key == "href":
				if u, err := url.Parse(html.UnescapeString(kv[2])); err != nil || !ourLink(u.String()) {
					t.Errorf("%s: link %q", kind, tag)
				}
			case key != "style" && key != "charset" && (name != "!doctype" || key != "html"):
				t.Errorf("%s: attribute %s in %q", kind, key, tag)
			}
			return ""
		})
		if strings.TrimSpace(strings.TrimSuffix(rest, "/")) != "" {
			t.Errorf("%s: stray attribute text %q in %q", kind, rest, tag)
		}
	}
	if rest := htmlTag.ReplaceAllString(body, ""); strings.ContainsAny(rest, "<>") {
		t.Errorf("%s: raw < or > outside the template's tags in\n%s", kind, body)
	}
}

var (
	htmlTag  = regexp.MustCompile(`(?i)</?([a-z][a-z0-9]*|!doctype)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*/?>`)
	htmlAttr = regexp.MustCompile(`\s*([^\s=>]+)(?:="([^"]*)")?`)
	// emailTags are the elements of the e-mail template.
	emailTags = map[string]bool{"!doctype": true, "html": true, "head": true, "meta": true, "title": true, "body": true,
		"h2": true, "p": true, "table": true, "tr": true, "td": true, "ol": true, "li": true, "strong": true,
		"br": true, "span": true, "a": true}
)

// reporter is what the inertness checks need of a test, so that
// TestInertChecksCatchHostileText can hand them a counter.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

type failureCounter struct{ n int }

func (*failureCounter) Helper()                 {}
func (c *failureCounter) Errorf(string, ...any) { c.n++ }

// TestInertChecksCatchHostileText: the checks above can fail. Each is
// given text as a channel that forgot to escape would write it.
func TestInertChecksCatchHostileText(t *testing.T) {
	failures := func(check func(r reporter, kind, s string), s string) int {
		var c failureCounter
		check(&c, "self-test", s)
		return c.n
	}
	for _, bad := range []string{
		`<p onclick="x">a</p>`, `<script>alert(1)</script>`, `<a href="javascript:alert(1)">y</a>`,
		`<img src=x onerror=alert(1)>`, `<p>a > b</p>`, `<a href="https://evil.example/">y</a>`,
	} {
		if failures(htmlInert, bad) == 0 {
			t.Errorf("html check passes %q", bad)
		}
	}
	if n := failures(htmlInert, `<p style="x">a &lt; b <a href="https://alertgate.example.com/i/1?a=1&amp;b=2">y</a></p>`); n != 0 {
		t.Errorf("html check fails safe HTML (%d)", n)
	}
	for _, bad := range []string{`<b>x</b><i>y</i>`, `<a href="javascript:x">y</a>`, `a & b`, `a > b`, `<a href="https://alertgate.example.com/" onclick="x">`} {
		if failures(telegramHTMLInert, bad) == 0 {
			t.Errorf("telegram check passes %q", bad)
		}
	}
	if n := failures(telegramHTMLInert, `<b>a &amp; &lt;b&gt;</b> <a href="https://alertgate.example.com/a/1">Ack</a>`); n != 0 {
		t.Errorf("telegram check fails safe text (%d)", n)
	}
	for _, bad := range []string{"<!channel>", "<@U123>", "<http://evil.example|x>", "a & b", "a > b", "&#60;"} {
		if failures(slackMrkdwnInert, bad) == 0 {
			t.Errorf("slack check passes %q", bad)
		}
	}
	if n := failures(slackMrkdwnInert, "*<https://alertgate.example.com/i/1?a=1&amp;b=2|T &lt;x&gt;>* <!date^1^{date_short_pretty} {time}|x>"); n != 0 {
		t.Errorf("slack check fails safe mrkdwn (%d)", n)
	}
	if len(markdownLinks(`[x](javascript:y)`)) != 1 || len(markdownLinks(`\[x\](javascript:y)`)) != 0 ||
		len(markdownLinks(`\\[x](javascript:y)`)) != 1 || len(markdownLinks(`<javascript:y>`)) != 1 {
		t.Error("markdown link check is wrong")
	}
	if !hasControl("a\r\nb", true) || hasControl("a\nb", true) || !hasControl("a\nb", false) {
		t.Error("control character check is wrong")
	}
}
