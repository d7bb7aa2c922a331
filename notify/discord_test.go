package notify_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/notify"
)

const discordTestPath = "/api/webhooks/123456789012345678/"

func newTestDiscord(t *testing.T, base, token string) *notify.Discord {
	t.Helper()
	n, err := notify.NewDiscord(notify.DiscordOptions{URL: base + discordTestPath + token})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDiscordGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		page notify.Page
	}{
		{"with-links", chatPage()},
		{"without-links", page("42", "alice")},
		{"resolved", resolvedOf(chatPage())},
		{"digest", digestOf(chatPage(), 12, true)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newChatHookServer(t, chatAnswer(http.StatusOK, map[string]string{"Content-Type": "application/json"}, `{"id":"1"}`))
			retry, err := newTestDiscord(t, srv.URL, "TOKEN").Notify(t.Context(), tt.page)
			if err != nil || retry {
				t.Fatalf("Notify = %v, %v", retry, err)
			}
			checkGolden(t, "discord/"+tt.name+".txt", srv.only(t).dump("Content-Type", "Idempotency-Key"))
		})
	}
}

func TestDiscordKeepsThreadID(t *testing.T) {
	srv := newChatHookServer(t, nil)
	n, err := notify.NewDiscord(notify.DiscordOptions{URL: srv.URL + discordTestPath + "TOKEN?thread_id=987"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(t.Context(), page("42", "alice")); err != nil {
		t.Fatal(err)
	}
	if got, want := srv.only(t).uri, discordTestPath+"TOKEN?thread_id=987&wait=true"; got != want {
		t.Errorf("request URI %q, want %q", got, want)
	}
}

// discordSent is what the tests read back of a message.
type discordSent struct {
	Content         string `json:"content"`
	AllowedMentions struct {
		Parse *[]string `json:"parse"`
	} `json:"allowed_mentions"`
	Embeds []struct {
		Title       string `json:"title"`
		URL         string `json:"url"`
		Description string `json:"description"`
		Color       int    `json:"color"`
		Fields      []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
		Footer struct {
			Text string `json:"text"`
		} `json:"footer"`
	} `json:"embeds"`
}

func discordDecode(t *testing.T, p notify.Page) discordSent {
	t.Helper()
	var m discordSent
	if err := json.Unmarshal(chatJSON(t, notify.DiscordMessage(p)), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Embeds) != 1 {
		t.Fatalf("%d embeds, want 1", len(m.Embeds))
	}
	return m
}

func TestDiscordSenderTextCannotPingOrLink(t *testing.T) {
	p := chatPage()
	p.Title = "@everyone [click me](https://evil.example) <@&123>\n# big"
	p.Service = "- list"
	m := discordDecode(t, p)
	if m.AllowedMentions.Parse == nil || len(*m.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions.parse = %v, want []", m.AllowedMentions.Parse)
	}
	if got, want := m.Content, `\[CRITICAL\] @everyone \[click me\]\(https://evil.example\) \<@&123> # big`; got != want {
		t.Errorf("content %q, want %q (markdown escaped, on one line)", got, want)
	}
	if got, want := m.Embeds[0].Title, "[CRITICAL] @everyone [click me](https://evil.example) <@&123> # big"; got != want {
		t.Errorf("title %q, want %q (titles render no links or mentions: on one line, unescaped)", got, want)
	}
	if got := m.Embeds[0].Fields[0].Value; got != `\- list` {
		t.Errorf("service field %q, want the list marker escaped", got)
	}
	if d := m.Embeds[0].Description; d != "[Acknowledge](https://alertgate.example.com/a/ack-token) · [Resolve](https://alertgate.example.com/a/resolve-token) · [Open](https://alertgate.example.com/i/42)" {
		t.Errorf("description %q", d)
	}
}

func TestDiscordColoursAndLinks(t *testing.T) {
	colours := map[int]string{}
	for _, sev := range []string{"critical", "error", "warning", "info", ""} {
		p := page("42", "alice")
		p.Severity = alertgate.Severity(sev)
		c := discordDecode(t, p).Embeds[0].Color
		if other, dup := colours[c]; dup {
			t.Errorf("%s and %s share colour %#x", sev, other, c)
		}
		colours[c] = sev
	}
	p := chatPage()
	p.Links.Acknowledge = ""
	p.Links.Open = "https://alertgate.example.com/i/(42)"
	e := discordDecode(t, p).Embeds[0]
	if got, want := e.Description, "[Resolve](https://alertgate.example.com/a/resolve-token) · [Open](https://alertgate.example.com/i/%2842%29)"; got != want {
		t.Errorf("description %q, want %q", got, want)
	}
	if e.URL != p.Links.Open {
		t.Errorf("title links to %q, want the Open link", e.URL)
	}
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

func TestDiscordFitsLimits(t *testing.T) {
	p := chatPage()
	// Astral characters count twice in UTF-16; a limit counted in runes
	// would let this through at twice the size.
	p.Title = strings.Repeat("😀", 3000)
	p.Service = strings.Repeat("s", 3000)
	p.Incident = strings.Repeat("9", 3000)
	p.Reason = strings.Repeat("r", 5000)
	// Long links fill most of the 6000: the rest must give way, the links
	// must not.
	long := "https://alertgate.example.com/a/" + strings.Repeat("t", 1100)
	p.Links = notify.Links{Acknowledge: long + "a", Resolve: long + "r", Open: long + "o"}
	m := discordDecode(t, p)
	e := m.Embeds[0]
	if n := utf16Len(m.Content); n > 2000 {
		t.Errorf("content %d long", n)
	}
	if n := utf16Len(e.Title); n > 256 || !strings.HasSuffix(e.Title, "…") {
		t.Errorf("title %d long, or not marked as cut", n)
	}
	if n := utf16Len(e.Footer.Text); n > 2048 {
		t.Errorf("footer %d long", n)
	}
	total := utf16Len(e.Title) + utf16Len(e.Description) + utf16Len(e.Footer.Text)
	for _, f := range e.Fields {
		if n := utf16Len(f.Value); n > 1024 || n == 0 {
			t.Errorf("field %s: %d long", f.Name, n)
		}
		total += utf16Len(f.Name) + utf16Len(f.Value)
	}
	if total > 6000 {
		t.Errorf("embed text totals %d, limit 6000", total)
	}
	for _, l := range []string{p.Links.Acknowledge, p.Links.Resolve, p.Links.Open} {
		if !strings.Contains(e.Description, "("+l+")") {
			t.Errorf("a link was cut or dropped from the description")
		}
	}
	if got := e.Fields[0].Value; utf16Len(got) < 500 {
		t.Errorf("the service was cut to %d before the footer was", utf16Len(got))
	}
}

func TestDiscordRoundTrip(t *testing.T) {
	tests := append(chatRoundTrips(http.StatusOK),
		chatRoundTrip{name: "204 without wait", respond: chatAnswer(http.StatusNoContent, nil, "")},
		chatRoundTrip{name: "429 with retry_after only in the body", wantErr: true, retry: true, retryAfter: 1501 * time.Millisecond,
			respond: chatAnswer(429, map[string]string{"Content-Type": "application/json"}, `{"message":"You are being rate limited.","retry_after":1.5003,"global":false}`)},
		chatRoundTrip{name: "429: the header wins over the body", wantErr: true, retry: true, retryAfter: 3 * time.Second,
			respond: chatAnswer(429, map[string]string{"Retry-After": "3"}, `{"retry_after":2.2,"global":true}`)},
		chatRoundTrip{name: "429 with neither", wantErr: true, retry: true,
			respond: chatAnswer(429, nil, `<html>slow down</html>`)},
	)
	runChatRoundTrips(t, tests, func(t *testing.T, url string) chatNotifier { return newTestDiscord(t, url, "TOKEN") })
}

func TestNewDiscordRejects(t *testing.T) {
	const secret = "s3cr3t-token"
	for _, tt := range []struct{ url, want string }{
		{"", "url is required"},
		{"discord.com/api/webhooks/1/" + secret, "not an absolute URL"},
		{"http://discord.com/api/webhooks/1/" + secret, "must use https"},
		{"https://discord.com/api/channels/1/" + secret, "must end in /webhooks/{id}/{token}"},
		{"https://discord.com/api/webhooks/abc/" + secret, "must end in /webhooks/{id}/{token}"},
		{"https://discord.com/api/webhooks/1/" + secret + "/slack", "must end in /webhooks/{id}/{token}"},
		{"https://discord.com/api/webhooks/1/", "must end in /webhooks/{id}/{token}"},
		{"https://x:" + secret + "@discord.com/api/webhooks/1/t", "user:password"},
	} {
		_, err := notify.NewDiscord(notify.DiscordOptions{URL: tt.url})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewDiscord(%q) = %v, want an error saying %q", tt.url, err, tt.want)
			continue
		}
		chatNoSecret(t, secret, err.Error())
	}
	n, err := notify.NewDiscord(notify.DiscordOptions{URL: "https://discord.com/api/webhooks/123/" + secret})
	if err != nil {
		t.Fatalf("a Discord webhook URL: %v", err)
	}
	if got, want := n.Target(), "discord:discord.com/webhooks/123"; got != want {
		t.Errorf("Target() = %q, want %q", got, want)
	}
}

func TestDiscordHidesSecret(t *testing.T) {
	const secret = "s3cr3t-token"
	srv := newChatHookServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"Unknown Webhook `+"http://"+r.Host+r.URL.RequestURI()+`","code":10015}`)
	})
	n := newTestDiscord(t, srv.URL, secret)
	retry, echoed := n.Notify(t.Context(), page("42", "alice"))
	if echoed == nil || retry {
		t.Fatalf("404: %v, %v; want a permanent error", retry, echoed)
	}
	srv.Close()
	_, refused := n.Notify(t.Context(), page("42", "alice"))
	if refused == nil {
		t.Fatal("closed server: no error")
	}
	chatNoSecret(t, secret, n.Target(), echoed.Error(), refused.Error())
}
