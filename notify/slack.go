package notify

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The Slack channel (`type: slack`) posts each page to a Slack incoming
// webhook as a Block Kit message:
//
//	header   [CRITICAL] Disk full on db-1
//	section  *CRITICAL* · paging *alice* · policy payments, step 1
//	         Service / Alerts / Since / Incident (two-column fields)
//	context  Paged because: on call in rotation payments-primary
//	actions  [Acknowledge] [Resolve] [Open incident]   (link buttons)
//
// with a plain `text` that Slack shows in notifications and where blocks
// cannot be shown. Incoming webhooks answer 200 "ok", or an error code as
// plain text: 400 invalid_payload, 403 action_prohibited, 404
// channel_not_found, 410 channel_is_archived (all permanent), 429 with
// Retry-After (retried after that delay), 5xx (retried). Do classifies
// them; the code is the error's Detail.

// Slack's limits on the text of the blocks we send (Block Kit reference:
// header, section, context and button elements).
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldMax   = 2000
	slackContextMax = 3000
	slackButtonMax  = 75
	slackURLMax     = 3000
	// Slack truncates a message's text past 40,000 characters; the
	// fallback is a notification line, so keep it far shorter.
	slackFallbackMax = 500
)

// SlackOptions configure a Slack incoming webhook.
type SlackOptions struct {
	// URL is the incoming webhook URL (https://hooks.slack.com/services/
	// T…/B…/…). It is a credential: anyone with it can post to the
	// channel, so Target and errors never show it. Slack-compatible
	// servers (Mattermost, Rocket.Chat) take their own webhook URL here.
	URL string
	// Client sends the requests; nil means a 10 s timeout and no
	// redirects.
	Client *http.Client
	// Now is the clock for Retry-After dates and the fallback text's
	// "for 12m"; nil means time.Now.
	Now func() time.Time
}

// Slack is the Slack incoming-webhook notifier. It is safe for concurrent
// use.
type Slack struct {
	url    string
	client *http.Client
	now    func() time.Time
	target string
}

// NewSlack checks o and returns the notifier. The URL must be https
// (http only on loopback, for tests).
func NewSlack(o SlackOptions) (*Slack, error) {
	u, err := hookURL("slack", o.URL, false)
	if err != nil {
		return nil, err
	}
	s := &Slack{url: o.URL, client: hookClient(o.Client), now: o.Now, target: hookTarget("slack", u)}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Target is "slack:https://hooks.slack.com/#<hash of the URL>".
func (s *Slack) Target() string { return s.target }

// Notify posts p. Slack's incoming webhooks know no idempotency key; the
// Idempotency-Key header is sent for proxies and Slack-compatible servers
// that honour it, so a retried page may appear twice in the channel.
func (s *Slack) Notify(ctx context.Context, p Page) (retry bool, err error) {
	body, err := hookJSON(SlackMessage(p, s.now()))
	if err != nil {
		return false, fmt.Errorf("notify: slack: encode page %s: %w", p.Key, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("notify: slack %s: build request", s.target)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "alertgate")
	req.Header.Set(HeaderIdempotencyKey, p.Key)
	if err := Do(ctx, s.client, req, s.now); err != nil {
		err = hookRedact(err, s.target)
		retry, _ := Failed(err)
		return retry, fmt.Errorf("notify: slack %s: %w", s.target, err)
	}
	return false, nil
}

// The Block Kit subset we send.
type (
	slackPayload struct {
		Text   string       `json:"text"`
		Blocks []slackBlock `json:"blocks"`
	}
	slackBlock struct {
		Type     string         `json:"type"`
		Text     *slackText     `json:"text,omitempty"`
		Fields   []slackText    `json:"fields,omitempty"`
		Elements []slackElement `json:"elements,omitempty"`
	}
	slackText struct {
		Type  string `json:"type"`
		Text  string `json:"text"`
		Emoji bool   `json:"emoji,omitempty"`
	}
	// slackElement is a context element (a text object) or a button.
	slackElement struct {
		Type     string `json:"type"`
		Text     any    `json:"text"`
		ActionID string `json:"action_id,omitempty"`
		URL      string `json:"url,omitempty"`
		Style    string `json:"style,omitempty"`
	}
)

// SlackMessage is the incoming-webhook payload for p, as sent at now.
func SlackMessage(p Page, now time.Time) any {
	blocks := []slackBlock{{
		Type: "header",
		Text: &slackText{Type: "plain_text", Text: fitPlain(Headline(p), slackHeaderMax), Emoji: true},
	}}

	section := slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: slackWho(p)}}
	for _, f := range Facts(p) {
		if f[0] == "Paged because" {
			continue // the context line below says it, in smaller type
		}
		value := f[1]
		if f[0] == "Since" && !p.Since.IsZero() {
			section.Fields = append(section.Fields, slackText{Type: "mrkdwn", Text: "*Since*\n" + slackDate(p.Since, value)})
			continue
		}
		section.Fields = append(section.Fields, slackText{Type: "mrkdwn", Text: fitMrkdwn(value, "*"+f[0]+"*\n", slackFieldMax)})
	}
	blocks = append(blocks, section)

	if p.Reason != "" {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []slackElement{{
			Type: "mrkdwn", Text: fitMrkdwn(p.Reason, "Paged because: ", slackContextMax),
		}}})
	}

	var buttons []slackElement
	for _, l := range []struct{ id, label, url, style string }{
		{"acknowledge", "Acknowledge", p.Links.Acknowledge, "primary"},
		{"resolve", "Resolve", p.Links.Resolve, ""},
		{"open", "Open incident", p.Links.Open, ""},
	} {
		// A cut URL would lead nowhere: drop a button whose URL is over
		// Slack's limit rather than have Slack refuse the whole page.
		if l.url == "" || utf16Len(l.url) > slackURLMax {
			continue
		}
		buttons = append(buttons, slackElement{
			Type:     "button",
			Text:     slackText{Type: "plain_text", Text: fitPlain(l.label, slackButtonMax)},
			ActionID: l.id,
			URL:      l.url,
			Style:    l.style,
		})
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slackBlock{Type: "actions", Elements: buttons})
	}

	return slackPayload{Text: fitMrkdwn(Short(p, now, slackFallbackMax), "", slackFallbackMax), Blocks: blocks}
}

// slackWho is the section's line: severity, who is paged, and where in
// the policy: "*CRITICAL* · paging *alice* · policy payments, step 1".
func slackWho(p Page) string {
	parts := []string{"*" + fitMrkdwn(strings.ToUpper(string(p.Severity)), "", 100) + "*"}
	if p.User != "" {
		parts = append(parts, "paging *"+fitMrkdwn(p.User, "", 200)+"*")
	}
	var where []string
	if p.Policy != "" {
		where = append(where, "policy "+fitMrkdwn(p.Policy, "", 200))
	}
	if p.Step > 0 {
		where = append(where, "step "+strconv.Itoa(p.Step))
		if p.Repeat > 0 {
			where = append(where, "repeat "+strconv.Itoa(p.Repeat))
		}
	}
	if len(where) > 0 {
		parts = append(parts, strings.Join(where, ", "))
	}
	return strings.Join(parts, " · ")
}

// slackDate shows t in each reader's own time zone, with fallback (UTC)
// where the client cannot: Slack's <!date^…> token.
func slackDate(t time.Time, fallback string) string {
	return "<!date^" + strconv.FormatInt(t.Unix(), 10) + "^{date_short_pretty} {time}|" + slackEscape(fallback) + ">"
}

// slackEscape escapes the three characters Slack parses in text: &, <, >
// (an alert title must not turn into a link or an @channel mention).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// fitMrkdwn is prefix + the escaped s, cut with "…" so the whole is at
// most max characters. It cuts between runes and never inside an entity,
// so the result is valid UTF-8 and valid mrkdwn. Control characters other
// than newline become spaces. prefix is trusted mrkdwn.
func fitMrkdwn(s, prefix string, max int) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range s {
		b.WriteString(slackPiece(r))
	}
	if utf16Len(b.String()) <= max {
		return b.String()
	}
	b.Reset()
	b.WriteString(prefix)
	n := utf16Len(prefix)
	for _, r := range s {
		piece := slackPiece(r)
		if n+utf16Len(piece) > max-1 {
			break
		}
		b.WriteString(piece)
		n += utf16Len(piece)
	}
	return b.String() + "…"
}

func slackPiece(r rune) string {
	switch {
	case r == '&':
		return "&amp;"
	case r == '<':
		return "&lt;"
	case r == '>':
		return "&gt;"
	case r == '\n':
		return "\n"
	case r == utf8.RuneError, unicode.IsControl(r):
		return " "
	}
	return string(r)
}

// fitPlain is s as plain text, one line, of at most max characters.
func fitPlain(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if utf16Len(s) <= max {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n+utf16.RuneLen(r) > max-1 {
			break
		}
		b.WriteRune(r)
		n += utf16.RuneLen(r)
	}
	return b.String() + "…"
}

// utf16Len counts characters as Slack's JavaScript clients do (UTF-16
// code units); it is never less than the rune count, so a text within it
// is within Slack's limit either way.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
