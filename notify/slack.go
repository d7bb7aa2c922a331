package notify

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
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
// cannot be shown. A resolution notice is a header "[RESOLVED] …", a
// section "✅ Resolved after 1h 35m" with the facts, and only the Open
// button; a digest is a header "[CRITICAL] 37 incidents need attention", a
// context line, one section per item (up to DigestMaxItems: a headline
// linking to the incident, its facts, Acknowledge and Open links) and
// "and N more": at most 15 blocks, far within Block Kit's 50. Incoming webhooks answer 200 "ok", or an error code as
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
	var blocks []slackBlock
	switch p.Kind {
	case KindResolved:
		blocks = slackResolved(p)
	case KindDigest:
		blocks = slackDigest(p)
	default:
		blocks = slackPage(p)
	}
	return slackPayload{Text: slackFallback(p, now), Blocks: blocks}
}

// slackFallback is notify.Short, escaped for mrkdwn and within
// slackFallbackMax. Escaping can grow the text, so a digest's is built
// from its parts: the first item's headline is cut, the count and "and N
// more" stay.
func slackFallback(p Page, now time.Time) string {
	if p.Kind != KindDigest {
		return fitMrkdwn(Short(p, now, slackFallbackMax), "", slackFallbackMax)
	}
	prefix, first, suffix := DigestShortParts(p)
	prefix, suffix = fitMrkdwn(prefix, "", 100), fitMrkdwn(suffix, "", 100)
	return prefix + fitMrkdwn(first, "", slackFallbackMax-utf16Len(prefix)-utf16Len(suffix)) + suffix
}

func slackHeader(p Page) slackBlock {
	return slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: fitPlain(Headline(p), slackHeaderMax), Emoji: true}}
}

// slackFields are the facts as two-column section fields, times in each
// reader's zone; skip names facts left out.
func slackFields(p Page, skip ...string) []slackText {
	var fields []slackText
	for _, f := range Facts(p) {
		if slices.Contains(skip, f[0]) {
			continue
		}
		switch {
		case f[0] == "Since" && !p.Since.IsZero():
			fields = append(fields, slackText{Type: "mrkdwn", Text: "*Since*\n" + slackDate(p.Since, f[1])})
		case f[0] == "Resolved" && !p.At.IsZero():
			fields = append(fields, slackText{Type: "mrkdwn", Text: "*Resolved*\n" + slackDate(p.At, f[1])})
		default:
			fields = append(fields, slackText{Type: "mrkdwn", Text: fitMrkdwn(f[1], "*"+f[0]+"*\n", slackFieldMax)})
		}
	}
	return fields
}

func slackPage(p Page) []slackBlock {
	// The context line below says why, in smaller type.
	blocks := []slackBlock{
		slackHeader(p),
		{Type: "section", Text: &slackText{Type: "mrkdwn", Text: slackWho(p)}, Fields: slackFields(p, "Paged because")},
	}
	if p.Reason != "" {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []slackElement{{
			Type: "mrkdwn", Text: fitMrkdwn(p.Reason, "Paged because: ", slackContextMax),
		}}})
	}
	if b, ok := slackButtons(p.Links); ok {
		blocks = append(blocks, b)
	}
	return blocks
}

// slackResolved: no acknowledge or resolve buttons, the incident is over;
// Block Kit has no colour, so the check mark says it.
func slackResolved(p Page) []slackBlock {
	blocks := []slackBlock{
		slackHeader(p),
		// "Lasted" is in the section's line already.
		{Type: "section", Text: &slackText{Type: "mrkdwn", Text: ":white_check_mark: *" + Resolution(p) + "*"}, Fields: slackFields(p, "Lasted")},
	}
	if b, ok := slackButtons(Links{Open: p.Links.Open}); ok {
		blocks = append(blocks, b)
	}
	return blocks
}

// slackItemMax bounds a digest item's headline: ten of them must read as
// a list, not a wall.
const slackItemMax = 200

func slackDigest(p Page) []slackBlock {
	intro := fitMrkdwn(Facts(p)[0][1], "*Incidents:* ", slackContextMax)
	if p.User != "" {
		intro += " · for *" + fitMrkdwn(p.User, "", 200) + "*"
	}
	blocks := []slackBlock{
		slackHeader(p),
		{Type: "context", Elements: []slackElement{{Type: "mrkdwn", Text: intro}}},
		{Type: "divider"},
	}
	shown, more := DigestShown(p)
	for _, it := range shown {
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: slackItem(it)}})
	}
	if more > 0 {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []slackElement{{Type: "mrkdwn", Text: More(more)}}})
	}
	return blocks
}

// slackItem is one digest item's section text: the headline (a link to
// the incident), its facts, and its Acknowledge and Open links. A link
// too long for the section is left out, never cut.
func slackItem(it Page) string {
	head := "*" + fitMrkdwn(Headline(it), "", slackItemMax) + "*"
	if u, ok := slackLinkURL(it.Links.Open); ok {
		head = "*<" + u + "|" + fitMrkdwn(Headline(it), "", slackItemMax) + ">*"
	}
	var facts []string
	if it.Service != "" {
		facts = append(facts, fitMrkdwn(it.Service, "", slackItemMax))
	}
	facts = append(facts, alertCount(it.AlertCount))
	if !it.Since.IsZero() {
		facts = append(facts, "since "+slackDate(it.Since, factTime(it.Since)))
	}
	facts = append(facts, "#"+fitMrkdwn(it.Incident, "", 100))
	text := head + "\n" + strings.Join(facts, " · ")
	var links []string
	for _, l := range []struct{ label, url string }{{"Acknowledge", it.Links.Acknowledge}, {"Open", it.Links.Open}} {
		if u, ok := slackLinkURL(l.url); ok {
			links = append(links, "<"+u+"|"+l.label+">")
		}
	}
	if line := strings.Join(links, " · "); line != "" && utf16Len(text)+1+utf16Len(line) <= slackSectionMax {
		text += "\n" + line
	}
	return text
}

// slackLinkURL makes u safe inside <url|text>: "&" is written &amp; as
// everywhere in mrkdwn (Slack itself sends link URLs so), and the
// characters that would end the link early are percent-encoded. ok is false for no URL, or one
// so long that two of them and a headline could pass the section limit.
func slackLinkURL(u string) (string, bool) {
	if u == "" || utf16Len(u) > slackSectionMax/3 {
		return "", false
	}
	return strings.NewReplacer("&", "&amp;", "|", "%7C", "<", "%3C", ">", "%3E", " ", "%20").Replace(u), true
}

// slackButtons is the actions block of link buttons for l's links.
func slackButtons(l Links) (slackBlock, bool) {
	var buttons []slackElement
	for _, b := range []struct{ id, label, url, style string }{
		{"acknowledge", "Acknowledge", l.Acknowledge, "primary"},
		{"resolve", "Resolve", l.Resolve, ""},
		{"open", "Open incident", l.Open, ""},
	} {
		// A cut URL would lead nowhere: drop a button whose URL is over
		// Slack's limit rather than have Slack refuse the whole page.
		if b.url == "" || utf16Len(b.url) > slackURLMax {
			continue
		}
		buttons = append(buttons, slackElement{
			Type:     "button",
			Text:     slackText{Type: "plain_text", Text: fitPlain(b.label, slackButtonMax)},
			ActionID: b.id,
			URL:      b.url,
			Style:    b.style,
		})
	}
	return slackBlock{Type: "actions", Elements: buttons}, len(buttons) > 0
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
