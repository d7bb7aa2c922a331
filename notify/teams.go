package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/alertgate/alertgate"
)

// TeamsOptions configure a Teams notifier.
type TeamsOptions struct {
	// URL is the HTTP POST URL of a Workflows (Power Automate) flow
	// triggered by "When a Teams webhook request is received". It is a
	// secret: its sig query parameter is what authorises the post.
	URL string
	// Client defaults to an http.Client with a 10 s timeout.
	Client *http.Client
	// Now defaults to time.Now (Retry-After dates).
	Now func() time.Time
}

// Teams posts each page to a Microsoft Teams channel or chat as an
// Adaptive Card, through a Workflows webhook. The legacy Office 365
// connectors (MessageCard) are retired and not supported.
//
// A Workflows webhook answers 202 Accepted as soon as the flow run is
// queued: a card the flow later fails to post (a bad card, a flow owner
// who lost access) is not reported back to us.
type Teams struct {
	url    string
	secret string // the sig query parameter
	target string
	client *http.Client
	now    func() time.Time
}

// NewTeams checks o and returns a Teams notifier. Errors never quote the
// URL, which is a secret.
func NewTeams(o TeamsOptions) (*Teams, error) {
	u, err := parseChatHookURL("teams", o.URL)
	if err != nil {
		return nil, err
	}
	// The retired connectors' hosts: a URL from there will never work
	// again, and the fix (create a Workflows webhook) is worth saying.
	if host := strings.ToLower(u.Hostname()); host == "outlook.office.com" || strings.HasSuffix(host, ".webhook.office.com") {
		return nil, errors.New("notify: teams: url is a retired Office 365 connector webhook; create a Workflows webhook (\"When a Teams webhook request is received\") and use its URL")
	}
	// The sig parameter is what authorises a post; without one (a flow
	// behind another auth, a relay) the query is treated as the secret.
	secret := u.Query().Get("sig")
	if secret == "" {
		secret = u.RawQuery
	}
	t := &Teams{url: u.String(), secret: secret, target: "teams:" + u.Host + "/" + chatHookHash(u.String()), client: o.Client, now: o.Now}
	if t.client == nil {
		t.client = &http.Client{Timeout: 10 * time.Second}
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t, nil
}

// Target names the flow for the circuit breaker: its host and a hash of
// the whole URL (the URL itself is a secret).
func (t *Teams) Target() string { return t.target }

// Notify posts the page's card.
func (t *Teams) Notify(ctx context.Context, p Page) (retry bool, err error) {
	body, err := json.Marshal(TeamsMessage(p))
	if err != nil {
		return false, fmt.Errorf("notify: teams: encode card: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("notify: teams %s: build request", t.target)
	}
	req.Header.Set("Content-Type", "application/json")
	// Workflows has no idempotency of its own; the header reaches the
	// flow as triggerOutputs()['headers'], where a flow author (or a
	// proxy) can drop a redelivered page.
	req.Header.Set("Idempotency-Key", p.Key)
	if err := Do(ctx, t.client, req, t.now); err != nil {
		err = redactChatHook(err, t.secret)
		retry, _ := Failed(err)
		return retry, fmt.Errorf("notify: teams %s: %w", t.target, err)
	}
	return false, nil
}

// teamsMaxText bounds each text that came from a sender (title, service,
// reason), so one verbose alert cannot push the message past Teams'
// ~28 KB limit.
const teamsMaxText = 1000

// TeamsMessage is the body Teams posts for p: the message envelope
// Workflows expects, holding one Adaptive Card (v1.4, as in Microsoft's
// Workflows examples; nothing here needs a later version).
//
// A page is the headline (coloured by severity), its facts and
// Acknowledge / Resolve / Open buttons. A resolution notice is the
// headline in green ("Good"), "Resolved after …", its facts and only an
// Open button. A digest is the headline (coloured by the worst severity),
// the count by severity, one container per item (up to DigestMaxItems:
// headline, facts, Acknowledge and Open links) and "and N more".
func TeamsMessage(p Page) any {
	card := teamsCard{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		MSTeams: teamsWidth{Width: "Full"},
	}
	links := p.Links
	switch p.Kind {
	case KindResolved:
		card.Body = []any{
			teamsTextBlock{Type: "TextBlock", Text: teamsText(Headline(p)), Weight: "Bolder", Size: "Medium", Color: "Good", Wrap: true},
			teamsTextBlock{Type: "TextBlock", Text: teamsText(Resolution(p)), Wrap: true},
			teamsFacts(p, "Lasted"),
		}
		links = Links{Open: p.Links.Open}
	case KindDigest:
		card.Body = teamsDigest(p)
		links = Links{}
	default:
		card.Body = []any{
			teamsTextBlock{Type: "TextBlock", Text: teamsText(Headline(p)), Weight: "Bolder", Size: "Medium", Color: teamsColor(p.Severity), Wrap: true},
			teamsFacts(p),
		}
	}
	for _, l := range []struct{ title, url string }{
		{"Acknowledge", links.Acknowledge},
		{"Resolve", links.Resolve},
		{"Open", links.Open},
	} {
		if l.url != "" {
			card.Actions = append(card.Actions, teamsAction{Type: "Action.OpenUrl", Title: l.title, URL: l.url})
		}
	}
	return teamsMessage{
		Type:        "message",
		Attachments: []teamsAttachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}},
	}
}

func teamsFacts(p Page, skip ...string) teamsFactSet {
	facts := make([]teamsFact, 0, 6)
	for _, f := range Facts(p) {
		if !slices.Contains(skip, f[0]) {
			facts = append(facts, teamsFact{Title: f[0], Value: teamsText(f[1])})
		}
	}
	return teamsFactSet{Type: "FactSet", Facts: facts}
}

// Bounds of a digest item, so ten of them stay far below the ~28 KB a
// card may have: a headline of 200 characters, links of 500 (a longer one
// is left out, never cut).
const (
	teamsItemMax     = 200
	teamsItemLinkMax = 500
)

func teamsDigest(p Page) []any {
	body := []any{
		teamsTextBlock{Type: "TextBlock", Text: teamsText(Headline(p)), Weight: "Bolder", Size: "Medium", Color: teamsColor(DigestSeverity(p)), Wrap: true},
		teamsTextBlock{Type: "TextBlock", Text: "Incidents: " + Facts(p)[0][1], IsSubtle: true, Wrap: true},
	}
	shown, more := DigestShown(p)
	for _, it := range shown {
		items := []any{
			teamsTextBlock{Type: "TextBlock", Text: cutRunes(teamsText(Headline(it)), teamsItemMax), Weight: "Bolder", Color: teamsColor(it.Severity), Wrap: true},
			teamsTextBlock{Type: "TextBlock", Text: cutRunes(teamsText(ItemLine(it)), teamsMaxText), IsSubtle: true, Spacing: "None", Wrap: true},
		}
		var links []string
		for _, l := range []struct{ label, url string }{{"Acknowledge", it.Links.Acknowledge}, {"Open", it.Links.Open}} {
			if l.url != "" && len(l.url) <= teamsItemLinkMax {
				// Card markdown links end at the first ")", as Discord's
				// do: the same encoding keeps them whole.
				links = append(links, "["+l.label+"]("+discordLinkURL(l.url)+")")
			}
		}
		if len(links) > 0 {
			items = append(items, teamsTextBlock{Type: "TextBlock", Text: strings.Join(links, " · "), Spacing: "None", Wrap: true})
		}
		body = append(body, teamsContainer{Type: "Container", Separator: true, Items: items})
	}
	if more > 0 {
		body = append(body, teamsTextBlock{Type: "TextBlock", Text: More(more), IsSubtle: true, Separator: true, Wrap: true})
	}
	return body
}

// teamsColor is the headline's colour: the Adaptive Card palette has no
// red beyond "Attention", so critical and error share it.
func teamsColor(s alertgate.Severity) string {
	switch s {
	case alertgate.SeverityCritical, alertgate.SeverityError:
		return "Attention"
	case alertgate.SeverityWarning:
		return "Warning"
	case alertgate.SeverityInfo:
		return "Good"
	}
	return "Default"
}

// teamsText makes sender text safe for a card: control characters become
// spaces (a TextBlock renders a newline as a paragraph break), links are
// broken (see teamsNoLinks) and the text is cut to teamsMaxText
// characters.
func teamsText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = teamsNoLinks.Replace(s)
	if r := []rune(s); len(r) > teamsMaxText {
		s = string(r[:teamsMaxText-1]) + "…"
	}
	return s
}

// teamsNoLinks keeps sender text from becoming a link (issue 9): card
// markdown makes links of "[text](url)" and autolinks of "<scheme:…>",
// whatever the scheme. A word joiner (U+2060: invisible, no line break)
// between "]" and "(" and after every "<" stops a CommonMark parser
// seeing either, without backslash escapes, which Teams mobile has shown
// as backslashes (microsoft/AdaptiveCards#5590). Sender text is one line
// by now, so it cannot hold a reference-style link's definition.
var teamsNoLinks = strings.NewReplacer("](", "]\u2060(", "<", "<\u2060")

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string `json:"contentType"`
	// ContentURL is always null, as in Microsoft's documented envelope.
	ContentURL *string   `json:"contentUrl"`
	Content    teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string        `json:"$schema"`
	Type    string        `json:"type"`
	Version string        `json:"version"`
	Body    []any         `json:"body"`
	Actions []teamsAction `json:"actions,omitempty"`
	MSTeams teamsWidth    `json:"msteams"`
}

type teamsWidth struct {
	Width string `json:"width"`
}

type teamsTextBlock struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	Weight    string `json:"weight,omitempty"`
	Size      string `json:"size,omitempty"`
	Color     string `json:"color,omitempty"`
	IsSubtle  bool   `json:"isSubtle,omitempty"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
	Wrap      bool   `json:"wrap"`
}

type teamsContainer struct {
	Type      string `json:"type"`
	Separator bool   `json:"separator,omitempty"`
	Items     []any  `json:"items"`
}

type teamsFactSet struct {
	Type  string      `json:"type"`
	Facts []teamsFact `json:"facts"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// parseChatHookURL checks a webhook URL without ever quoting it (it holds
// a secret): absolute, https, with a host. Plain http is accepted only
// for loopback hosts, for tests and local relays.
func parseChatHookURL(channel, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("notify: %s: url is required", channel)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("notify: %s: url is not an absolute URL", channel)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !chatHookLoopback(u.Hostname()) {
			return nil, fmt.Errorf("notify: %s: url must use https (http only for loopback hosts)", channel)
		}
	default:
		return nil, fmt.Errorf("notify: %s: url scheme must be https", channel)
	}
	if u.User != nil {
		return nil, fmt.Errorf("notify: %s: url must not carry user:password", channel)
	}
	u.Fragment = ""
	return u, nil
}

func chatHookLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// chatHookHash names a secret without revealing it: the first 12 hex
// digits of its SHA-256, enough to tell targets apart.
func chatHookHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// redactChatHook removes a webhook's secret from a delivery error:
// net/http puts the request URL in its errors ("Post \"https://…\":
// timeout"), and a target or a proxy could echo the URL in its answer.
func redactChatHook(err error, secret string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = "(redacted)"
	}
	var e *Error
	if secret != "" && errors.As(err, &e) {
		e.Detail = strings.ReplaceAll(e.Detail, secret, "(redacted)")
		// A cut answer may end in the first part of the secret.
		for n := len(secret) - 1; n >= 4; n-- {
			if strings.HasSuffix(e.Detail, secret[:n]) {
				e.Detail = e.Detail[:len(e.Detail)-n] + "(redacted)"
				break
			}
		}
	}
	return err
}
