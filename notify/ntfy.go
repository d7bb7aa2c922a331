package notify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
)

// NtfyOptions configure the "ntfy" notifier (push through an ntfy
// server: ntfy.sh or a self-hosted one).
type NtfyOptions struct {
	// BaseURL is the server, https://ntfy.sh by default; a path prefix
	// (https://example.com/ntfy) is kept.
	BaseURL string
	// Token is an access token (tk_…), sent as a bearer token; Username
	// and Password are basic auth instead. Neither is needed for an open
	// topic.
	Token    string
	Username string
	Password string
	// Client defaults to an http.Client with a 10 s timeout.
	Client *http.Client
	// Now defaults to time.Now; it dates Retry-After.
	Now func() time.Time
}

// Ntfy publishes each page to the topic p.Address, with the links as
// action buttons and the open link as the notification's click target.
type Ntfy struct {
	o    NtfyOptions
	base string
}

const ntfyAPI = "https://ntfy.sh"

// ntfyMaxMessage keeps a message under ntfy's default 4,096-byte limit,
// past which the server turns the message into an attachment.
const ntfyMaxMessage = 4000

// ntfyTopic is the topic names ntfy accepts.
var ntfyTopic = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// NewNtfy checks o and returns the notifier.
func NewNtfy(o NtfyOptions) (*Ntfy, error) {
	switch {
	case o.Token != "" && (o.Username != "" || o.Password != ""):
		return nil, errors.New("notify: ntfy: token and username/password exclude each other")
	case (o.Username == "") != (o.Password == ""):
		return nil, errors.New("notify: ntfy: username and password go together")
	}
	base, err := parseProviderBase(cmp.Or(o.BaseURL, ntfyAPI))
	if err != nil {
		return nil, fmt.Errorf("notify: ntfy: base_url: %w", err)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Ntfy{o: o, base: base}, nil
}

// Target is the server: its rate limits are per visitor and server.
func (n *Ntfy) Target() string { return "ntfy:" + n.base }

// ntfyMessage is ntfy's "publish as JSON" body.
type ntfyMessage struct {
	Topic    string       `json:"topic"`
	Title    string       `json:"title"`
	Message  string       `json:"message"`
	Priority int          `json:"priority"`
	Tags     []string     `json:"tags,omitempty"`
	Click    string       `json:"click,omitempty"`
	Actions  []ntfyAction `json:"actions,omitempty"`
}

type ntfyAction struct {
	Action string `json:"action"`
	Label  string `json:"label"`
	URL    string `json:"url"`
}

// Notify publishes the page to the topic p.Address, as JSON posted to
// the server's root (posting JSON to the topic's URL would publish the
// JSON as text).
//
// ntfy has no idempotency key: a redelivered page is a second
// notification. X-Alertgate-Idempotency-Key carries p.Key for proxies.
func (n *Ntfy) Notify(ctx context.Context, p Page) (retry bool, err error) {
	if !ntfyTopic.MatchString(p.Address) {
		return false, &Error{Err: fmt.Errorf("notify: ntfy: address %q is not a topic (1-64 letters, digits, - and _)", p.Address)}
	}
	body, err := jsonUnescaped(ntfyBody(p))
	if err != nil {
		return false, fmt.Errorf("notify: ntfy: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, n.base+"/", bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("notify: ntfy: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Alertgate-Idempotency-Key", p.Key)
	switch {
	case n.o.Token != "":
		req.Header.Set("Authorization", "Bearer "+n.o.Token)
	case n.o.Username != "":
		req.SetBasicAuth(n.o.Username, n.o.Password)
	}
	err = Do(ctx, n.o.Client, req, n.o.Now)
	if err == nil {
		return false, nil
	}
	ntfyDetail(err, n.o.Token, n.o.Password, basicCredentials(n.o.Username, n.o.Password))
	retry, _ = Failed(err)
	return retry, fmt.Errorf("notify: ntfy: %w", err)
}

// ntfyBody is the JSON message for p: the headline as title, the facts
// one a line, ntfy's priority for the severity (5 makes phones ring
// through do-not-disturb where allowed), an emoji tag, and the links as
// view actions (ntfy shows at most 3; a page has at most 3).
//
// A resolution notice is low priority (2: it must not wake anyone), tagged
// white_check_mark, "Resolved after …" first, with only the Open action.
// A digest has the worst severity's priority and tag, and lists up to
// DigestMaxItems items, each its headline, facts and "ack:" and "open:"
// URLs (ntfy's apps make URLs in a message clickable; three actions could
// not serve ten items), then "and N more".
func ntfyBody(p Page) ntfyMessage {
	var lines []string
	links := p.Links
	sev := p.Severity
	switch p.Kind {
	case KindResolved:
		lines = append(lines, Resolution(p))
		links = Links{Open: p.Links.Open}
	case KindDigest:
		sev = DigestSeverity(p)
		links = Links{}
	}
	for _, f := range Facts(p) {
		if p.Kind != KindResolved || f[0] != "Lasted" {
			lines = append(lines, f[0]+": "+cutRunes(f[1], 512))
		}
	}
	if p.Kind == KindDigest {
		shown, more := DigestShown(p)
		for _, it := range shown {
			lines = append(lines, "", cutRunes(Headline(it), 256), cutRunes(ItemLine(it), 256))
			if it.Links.Acknowledge != "" {
				lines = append(lines, "ack: "+it.Links.Acknowledge)
			}
			if it.Links.Open != "" {
				lines = append(lines, "open: "+it.Links.Open)
			}
		}
		if more > 0 {
			lines = append(lines, "", More(more))
		}
	}
	m := ntfyMessage{
		Topic:    p.Address,
		Title:    cutRunes(Headline(p), 256),
		Message:  cutBytes(strings.Join(lines, "\n"), ntfyMaxMessage),
		Priority: 3,
		Click:    links.Open,
	}
	switch sev {
	case alertgate.SeverityCritical:
		m.Priority, m.Tags = 5, []string{"rotating_light"}
	case alertgate.SeverityError:
		m.Priority, m.Tags = 4, []string{"red_circle"}
	case alertgate.SeverityWarning:
		m.Priority, m.Tags = 3, []string{"warning"}
	case alertgate.SeverityInfo:
		m.Priority, m.Tags = 2, []string{"information_source"}
	}
	if p.Kind == KindResolved {
		m.Priority, m.Tags = 2, []string{"white_check_mark"}
	}
	for _, a := range []ntfyAction{
		{"view", "Acknowledge", links.Acknowledge},
		{"view", "Resolve", links.Resolve},
		{"view", "Open", links.Open},
	} {
		if a.URL != "" {
			m.Actions = append(m.Actions, a)
		}
	}
	return m
}

// ntfyDetail replaces an ntfy error body ({"code":42901,"http":429,
// "error":"limit reached: too many requests","link":…}) with its error
// text and code, with any secret blanked.
func ntfyDetail(err error, secrets ...string) {
	var e *Error
	if !errors.As(err, &e) || e.Detail == "" {
		return
	}
	defer blankSecrets(e, secrets...)
	var body struct {
		Code  int    `json:"code"`
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(e.Detail), &body) == nil && body.Error != "" {
		e.Detail = fmt.Sprintf("ntfy error %d: %s", body.Code, body.Error)
	}
}

// cutBytes cuts s to at most n bytes of whole runes, marking a cut with
// "…".
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
