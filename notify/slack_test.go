package notify_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/alertgate/alertgate/notify"
)

func newTestSlack(t *testing.T, url string) *notify.Slack {
	t.Helper()
	s, err := notify.NewSlack(notify.SlackOptions{URL: url, Now: hookClock})
	if err != nil {
		t.Fatalf("NewSlack: %v", err)
	}
	return s
}

func TestSlackRequestGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		page notify.Page
	}{
		{"page.golden", hookPage(true)},
		{"page-nolinks.golden", hookPage(false)},
		{"resolved.golden", resolvedOf(hookPage(true))},
		{"digest.golden", digestOf(hookPage(true), 12, true)},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, got := hookServer(t, answerOK)
			s := newTestSlack(t, srv.URL+"/services/T0001/B0001/XXXXXXXX")
			if retry, err := s.Notify(t.Context(), c.page); err != nil {
				t.Fatalf("Notify = %v, %v", retry, err)
			}
			checkGolden(t, "slack/"+c.name, received(t, got).render())
		})
	}
}

// slackMsg is the part of a Block Kit payload the tests look at.
type slackMsg struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Text string `json:"text"`
		} `json:"fields"`
		Elements []struct {
			Type string          `json:"type"`
			Text json.RawMessage `json:"text"`
			URL  string          `json:"url"`
		} `json:"elements"`
	} `json:"blocks"`
}

func sentSlack(t *testing.T, p notify.Page) slackMsg {
	t.Helper()
	srv, got := hookServer(t, answerOK)
	if _, err := newTestSlack(t, srv.URL+"/services/T/B/X").Notify(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	var m slackMsg
	if err := json.Unmarshal(received(t, got).body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m slackMsg) block(t *testing.T, typ string) int {
	t.Helper()
	for i, b := range m.Blocks {
		if b.Type == typ {
			return i
		}
	}
	return -1
}

func utf16Count(s string) int { return len(utf16.Encode([]rune(s))) }

func TestSlackMessageContent(t *testing.T) {
	p := hookPage(true)
	m := sentSlack(t, p)
	if h := m.Blocks[0]; h.Type != "header" || h.Text.Type != "plain_text" || h.Text.Text != `[CRITICAL] Disk full on db-1 <&> "quoted"` {
		t.Errorf("header = %+v", h)
	}
	sec := m.Blocks[m.block(t, "section")]
	var fields []string
	for _, f := range sec.Fields {
		fields = append(fields, f.Text)
	}
	want := []string{"*Service*\ndb", "*Alerts*\n3 alerts", "*Since*\n<!date^1796118900^{date_short_pretty} {time}|2026-12-01 09:55 UTC>", "*Incident*\n42"}
	if strings.Join(fields, "|") != strings.Join(want, "|") {
		t.Errorf("fields = %q, want %q", fields, want)
	}
	if want := "*CRITICAL* · paging *alice* · policy payments, step 1"; sec.Text.Text != want {
		t.Errorf("section text = %q, want %q", sec.Text.Text, want)
	}
	if ctx := m.Blocks[m.block(t, "context")]; !strings.Contains(string(ctx.Elements[0].Text), p.Reason) {
		t.Errorf("context = %s, want the reason", ctx.Elements[0].Text)
	}
	acts := m.Blocks[m.block(t, "actions")]
	var urls []string
	for _, e := range acts.Elements {
		urls = append(urls, e.URL)
	}
	if len(urls) != 3 || urls[0] != p.Links.Acknowledge || urls[1] != p.Links.Resolve || urls[2] != p.Links.Open {
		t.Errorf("button urls = %q", urls)
	}
	// The fallback says what, where, how many and since when, escaped.
	if want := "[CRITICAL] Disk full on db-1 &lt;&amp;&gt; \"quoted\" · db · 3 alerts · for 1h · #42"; m.Text != want {
		t.Errorf("text = %q, want %q", m.Text, want)
	}

	// One link: one button. No links: no actions block at all.
	p.Links = notify.Links{Open: "https://alertgate.example.com/i/42"}
	if m := sentSlack(t, p); len(m.Blocks[m.block(t, "actions")].Elements) != 1 {
		t.Errorf("one link, actions = %+v", m.Blocks[m.block(t, "actions")])
	}
	p.Links = notify.Links{}
	p.Reason = ""
	if m := sentSlack(t, p); m.block(t, "actions") >= 0 || m.block(t, "context") >= 0 {
		t.Errorf("no links and no reason, blocks = %+v", m.Blocks)
	}
}

func TestSlackRespectsLimits(t *testing.T) {
	p := hookPage(true)
	p.Title = strings.Repeat("é😀<", 200)                 // 2-byte, 4-byte (surrogate pair) and escaped characters
	p.Reason = strings.Repeat("&", 2999)                 // every character grows fivefold when escaped
	p.Service = strings.Repeat("ü", 1990) + "<<<<<<<<<<" // the cut falls among entities
	p.Links.Resolve = "https://alertgate.example.com/a/" + strings.Repeat("x", 3000)
	m := sentSlack(t, p)

	check := func(what, s string, limit int) {
		t.Helper()
		if n := utf16Count(s); n > limit || !utf8.ValidString(s) || !strings.HasSuffix(s, "…") {
			t.Errorf("%s: %d characters (max %d), valid UTF-8 %v, %q…", what, n, limit, utf8.ValidString(s), s[:min(len(s), 40)])
		}
		cut := strings.TrimSuffix(s, "…")
		if i := strings.LastIndexByte(cut, '&'); i >= 0 && !strings.HasSuffix(cut, "&amp;") && !strings.HasSuffix(cut, "&lt;") && !strings.Contains(cut[i:], ";") {
			t.Errorf("%s: cut inside an entity: …%q", what, cut[max(0, len(cut)-12):])
		}
	}
	check("header", m.Blocks[0].Text.Text, 150)
	check("service field", m.Blocks[m.block(t, "section")].Fields[0].Text, 2000)
	var reason string
	if err := json.Unmarshal(m.Blocks[m.block(t, "context")].Elements[0].Text, &reason); err != nil {
		t.Fatal(err)
	}
	check("context", reason, 3000)
	if utf16Count(m.Text) > 500 || !utf8.ValidString(m.Text) {
		t.Errorf("fallback text: %d characters", utf16Count(m.Text))
	}
	for _, e := range m.Blocks[m.block(t, "actions")].Elements {
		if len(e.URL) > 3000 {
			t.Errorf("a button has a %d-character URL: Slack would refuse the page", len(e.URL))
		}
	}
	if n := len(m.Blocks[m.block(t, "actions")].Elements); n != 2 {
		t.Errorf("%d buttons, want 2 (the over-long Resolve link dropped)", n)
	}

	// A short text is not cut.
	p = hookPage(false)
	if m := sentSlack(t, p); strings.Contains(m.Blocks[0].Text.Text, "…") {
		t.Errorf("header cut: %q", m.Blocks[0].Text.Text)
	}
}

func TestSlackRoundTrip(t *testing.T) {
	checkRoundTrip(t, func(t *testing.T, url string) notify.Notifier {
		return newTestSlack(t, url)
	}, map[int]string{400: "invalid_payload", 403: "action_prohibited", 404: "channel_not_found",
		410: "channel_is_archived", 429: "rate_limited", 500: "rollup_error"})
}

func TestNewSlackRejects(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"", "url is required"},
		{"http://hooks.slack.com/services/T/B/s3cret", "must be https"},
		{"hooks.slack.com/services/T/B/s3cret", "http or https"},
		{"https://hooks.slack.com/services/T/B/s3cret#x", "fragment"},
		{"https://hooks.slack.com:bad/services/T/B/s3cret", "does not parse"},
	} {
		_, err := notify.NewSlack(notify.SlackOptions{URL: c.url})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewSlack(%q) = %v, want an error saying %q", c.url, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the URL's secret: %v", err)
		}
	}
	for _, ok := range []string{"https://hooks.slack.com/services/T/B/x", "http://127.0.0.1:8080/x", "http://localhost/x"} {
		if _, err := notify.NewSlack(notify.SlackOptions{URL: ok}); err != nil {
			t.Errorf("NewSlack(%s) = %v", ok, err)
		}
	}
}

func TestSlackHidesSecrets(t *testing.T) {
	srv, _ := hookServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	for _, base := range []string{srv.URL, dead.URL} {
		s := newTestSlack(t, base+"/services/T0001/B0001/WEBHOOKSECRET")
		retry, err := s.Notify(t.Context(), hookPage(true))
		if err == nil || !retry {
			t.Fatalf("Notify = %v, %v; want a retryable failure", retry, err)
		}
		for _, leak := range []string{"WEBHOOKSECRET", "B0001", "/services"} {
			if strings.Contains(err.Error(), leak) || strings.Contains(s.Target(), leak) {
				t.Errorf("%s leaks: err %q, target %q", leak, err, s.Target())
			}
		}
		if !strings.HasPrefix(s.Target(), "slack:http://127.0.0.1:") {
			t.Errorf("target = %q", s.Target())
		}
	}
	a, b := newTestSlack(t, srv.URL+"/services/T/B/one"), newTestSlack(t, srv.URL+"/services/T/B/two")
	if a.Target() == b.Target() {
		t.Errorf("two webhooks share the target %q", a.Target())
	}
}
