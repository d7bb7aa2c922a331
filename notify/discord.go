package notify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/alertgate/alertgate"
)

// DiscordOptions configure a Discord notifier.
type DiscordOptions struct {
	// URL is the channel webhook's URL,
	// https://discord.com/api/webhooks/{id}/{token}, optionally with a
	// thread_id query parameter. It is a secret: the token is in its path.
	// Compatible servers (and tests) use their own host and prefix; the
	// path must still end in /webhooks/{id}/{token}.
	URL string
	// Client defaults to an http.Client with a 10 s timeout.
	Client *http.Client
	// Now defaults to time.Now (Retry-After dates).
	Now func() time.Time
}

// Discord posts each page to a Discord channel through an execute-webhook
// call: a one-line content (what push notifications show) and one embed
// with the details and the links.
//
// It posts with ?wait=true: Discord then answers only once the message is
// saved (200 with the message), and reports a message it could not save
// as an error, where without wait it answers 204 before saving and drops
// such failures silently.
//
// Links are markdown links in the embed's description. Channel webhooks
// (not owned by an application) ignore components unless the request sets
// with_components=true, which allows non-interactive components such as
// link buttons; markdown links work on every webhook and on Discord-
// compatible servers, so they are what this notifier sends.
type Discord struct {
	url    string
	token  string
	target string
	client *http.Client
	now    func() time.Time
}

// discordPath is the end of an execute-webhook path: /webhooks/{id}/{token}.
var discordPath = regexp.MustCompile(`/webhooks/([0-9]+)/([A-Za-z0-9_.-]+)$`)

// NewDiscord checks o and returns a Discord notifier. Errors never quote
// the URL, which is a secret.
func NewDiscord(o DiscordOptions) (*Discord, error) {
	u, err := parseChatHookURL("discord", o.URL)
	if err != nil {
		return nil, err
	}
	m := discordPath.FindStringSubmatch(u.Path)
	if m == nil {
		return nil, errors.New("notify: discord: url path must end in /webhooks/{id}/{token} (the Slack- and GitHub-compatible endpoints are not supported)")
	}
	q := u.Query()
	q.Set("wait", "true")
	u.RawQuery = q.Encode()
	// The webhook id names the target; only the token is secret.
	d := &Discord{url: u.String(), token: m[2], target: "discord:" + u.Host + "/webhooks/" + m[1], client: o.Client, now: o.Now}
	if d.client == nil {
		d.client = &http.Client{Timeout: 10 * time.Second}
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d, nil
}

// Target names the webhook for the circuit breaker: host and webhook id,
// never the token.
func (d *Discord) Target() string { return d.target }

// Notify executes the webhook with the page's message.
func (d *Discord) Notify(ctx context.Context, p Page) (retry bool, err error) {
	body, err := json.Marshal(DiscordMessage(p))
	if err != nil {
		return false, fmt.Errorf("notify: discord: encode message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("notify: discord %s: build request", d.target)
	}
	req.Header.Set("Content-Type", "application/json")
	// Execute Webhook has no idempotency (its nonce/enforce_nonce exist
	// only for bot messages); the header is for proxies in between.
	req.Header.Set("Idempotency-Key", p.Key)
	if err := Do(ctx, d.client, req, d.now); err != nil {
		err = discordRetryAfter(redactChatHook(err, d.token))
		retry, _ := Failed(err)
		return retry, fmt.Errorf("notify: discord %s: %w", d.target, err)
	}
	return false, nil
}

// discordRetryAfter fills in a 429's delay from its JSON body
// ({"retry_after": 1.5, "global": false, …}, in seconds) when no
// Retry-After header said it: proxies and Discord-compatible servers do
// not always send the header, and the body is more precise.
func discordRetryAfter(err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusTooManyRequests || e.RetryAfter > 0 {
		return err
	}
	var limited struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal([]byte(e.Detail), &limited) == nil && limited.RetryAfter > 0 && limited.RetryAfter < 24*3600 {
		e.RetryAfter = time.Duration(math.Ceil(limited.RetryAfter*1000)) * time.Millisecond
	}
	return err
}

// Discord's message limits, in characters (counted here in UTF-16 code
// units, which is never fewer than Discord counts): content 2000; per
// embed title 256, description 4096, field name 256, field value 1024,
// footer 2048, and 6000 for all of an embed's text together.
const (
	discordMaxContent     = 2000
	discordMaxTitle       = 256
	discordMaxDescription = 4096
	discordMaxFieldName   = 256
	discordMaxFieldValue  = 1024
	discordMaxFooter      = 2048
	discordMaxEmbed       = 6000
)

// DiscordMessage is the body Discord posts for p. A page is one embed
// with the facts and the links. A resolution notice is one green embed
// saying how long the incident lasted, with only the Open link. A digest
// is one embed per item (severity colour, headline linking to the
// incident, facts, Acknowledge and Open links): Discord takes at most 10
// embeds and 6000 characters across them, so when more items than fit
// are left, the last embed says "and N more".
func DiscordMessage(p Page) any {
	var embeds []discordEmbed
	switch p.Kind {
	case KindResolved:
		embeds = []discordEmbed{discordPageEmbed(p, Links{Open: p.Links.Open}, Resolution(p), discordGreen, "Lasted")}
	case KindDigest:
		embeds = discordDigest(p)
	default:
		embeds = []discordEmbed{discordPageEmbed(p, p.Links, "", discordColor(p.Severity))}
	}
	return discordMessage{
		Content: discordCut(discordEscape(Headline(p)), discordMaxContent),
		Embeds:  embeds,
		// Nothing an alert says may ping anyone: no @everyone, @here,
		// user or role mentions, whatever the text holds.
		AllowedMentions: discordMentions{Parse: []string{}},
	}
}

// discordGreen is a resolution notice's colour (Discord's own green).
const discordGreen = 0x57F287

// discordPageEmbed is the embed of a page or notice: lead (if any) on the
// description's first line, then the links; the facts but skip as fields.
func discordPageEmbed(p Page, links Links, lead string, color int, skip ...string) discordEmbed {
	desc := discordLinks(links)
	if lead != "" {
		desc = strings.TrimSuffix(lead+"\n"+desc, "\n")
	}
	e := discordEmbed{
		// Embed titles render neither masked links nor mentions nor
		// block syntax, so the headline needs no escaping there (and
		// escapes would risk showing as backslashes).
		Title:       discordCut(discordOneLine(Headline(p)), discordMaxTitle),
		URL:         links.Open,
		Description: desc,
		Color:       color,
	}
	for _, f := range Facts(p) {
		// The reason is the footer, not a field.
		if f[0] == "Paged because" || slices.Contains(skip, f[0]) {
			continue
		}
		e.Fields = append(e.Fields, discordField{
			Name: discordCut(f[0], discordMaxFieldName),
			// Discord refuses a field with an empty value.
			Value:  discordCut(cmp.Or(discordEscape(f[1]), "-"), discordMaxFieldValue),
			Inline: true,
		})
	}
	if p.Reason != "" && p.IsPage() {
		// Footers render no markdown, so the reason is not escaped.
		e.Footer = &discordFooter{Text: discordCut("Paged because "+discordOneLine(p.Reason), discordMaxFooter)}
	}
	if !p.At.IsZero() {
		e.Timestamp = p.At.UTC().Format(time.RFC3339)
	}
	discordFit(&e)
	return e
}

// Discord's message-wide limits: 10 embeds, 6000 characters of embed text
// across all of them.
const (
	discordMaxEmbeds    = 10
	discordMaxItemTitle = 200
)

// discordDigest is one embed per shown item, as many as fit.
func discordDigest(p Page) []discordEmbed {
	var embeds []discordEmbed
	total := 0
	for i, it := range p.Items {
		left := len(p.Items) - i
		// The last embed is "and N more" unless every item left fits.
		if len(embeds) == discordMaxEmbeds-1 && left > 1 {
			break
		}
		desc := discordEscape(ItemLine(it))
		if l := discordLinks(Links{Acknowledge: it.Links.Acknowledge, Open: it.Links.Open}); l != "" {
			desc += "\n" + l
		}
		e := discordEmbed{
			Title:       discordCut(discordOneLine(Headline(it)), discordMaxItemTitle),
			URL:         it.Links.Open,
			Description: discordCut(desc, discordMaxDescription),
			Color:       discordColor(it.Severity),
		}
		n := discordLen(e.Title) + discordLen(e.Description)
		// Keep room for the "and N more" embed's title.
		if total+n > discordMaxEmbed-20 {
			break
		}
		total += n
		embeds = append(embeds, e)
	}
	if more := len(p.Items) - len(embeds); more > 0 {
		embeds = append(embeds, discordEmbed{Title: More(more), Color: discordColor(DigestSeverity(p))})
	}
	if len(embeds) == 0 {
		// A digest without items still gets its embed, as every
		// message has one: it says what the digest is.
		embeds = append(embeds, discordEmbed{Title: discordCut(discordOneLine(Headline(p)), discordMaxTitle), Color: discordColor(DigestSeverity(p))})
	}
	return embeds
}

// discordLinks is the description: the page's links as markdown links,
// those that fit; a link is left out rather than cut.
func discordLinks(l Links) string {
	var parts []string
	n := 0
	for _, link := range []struct{ label, url string }{
		{"Acknowledge", l.Acknowledge},
		{"Resolve", l.Resolve},
		{"Open", l.Open},
	} {
		if link.url == "" {
			continue
		}
		md := "[" + link.label + "](" + discordLinkURL(link.url) + ")"
		if n+discordLen(md)+3 > discordMaxDescription {
			continue
		}
		parts = append(parts, md)
		n += discordLen(md) + 3
	}
	return strings.Join(parts, " · ")
}

// discordLinkURL keeps a URL from ending its markdown link early.
func discordLinkURL(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u)
}

// discordFit keeps the embed's text within 6000 characters, cutting the
// least important text first: the footer, then field values from the
// last, then the title. The description (links) is never cut.
func discordFit(e *discordEmbed) {
	total := discordLen(e.Title) + discordLen(e.Description)
	for _, f := range e.Fields {
		total += discordLen(f.Name) + discordLen(f.Value)
	}
	if e.Footer != nil {
		total += discordLen(e.Footer.Text)
	}
	over := total - discordMaxEmbed
	shrink := func(s *string) {
		if over <= 0 {
			return
		}
		n := discordLen(*s)
		keep := max(n-over, 1)
		*s = discordCut(*s, keep)
		over -= n - discordLen(*s)
	}
	if e.Footer != nil {
		shrink(&e.Footer.Text)
	}
	for i := len(e.Fields) - 1; i >= 0; i-- {
		shrink(&e.Fields[i].Value)
	}
	shrink(&e.Title)
}

func discordColor(s alertgate.Severity) int {
	switch s {
	case alertgate.SeverityCritical:
		return 0xED4245 // red
	case alertgate.SeverityError:
		return 0xE67E22 // orange
	case alertgate.SeverityWarning:
		return 0xFEE75C // yellow
	case alertgate.SeverityInfo:
		return 0x5865F2 // blurple
	}
	return 0x95A5A6 // grey
}

// discordEscape makes sender text render as written in content and field
// values: on one line, with markdown (including masked links
// and mention syntax) escaped. allowed_mentions already stops pings; the
// escaping stops an alert from dressing itself up as a link or a header.
func discordEscape(s string) string {
	s = discordOneLine(s)
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '*', '_', '~', '`', '|', '<', '[', ']', '(', ')':
			b.WriteByte('\\')
		case '#', '-', '>', '+':
			// Block syntax (headers, lists, quotes) counts only at
			// the start of a line.
			if i == 0 {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// discordOneLine turns control characters (newlines included) into spaces.
func discordOneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// discordLen is s's length in UTF-16 code units.
func discordLen(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// discordCut cuts s to at most limit UTF-16 code units, ending in "…"
// when it cut, and never inside a character.
func discordCut(s string, limit int) string {
	if discordLen(s) <= limit {
		return s
	}
	var b strings.Builder
	n := 1 // the ellipsis
	for _, r := range s {
		l := max(utf16.RuneLen(r), 1)
		if n+l > limit {
			break
		}
		b.WriteRune(r)
		n += l
	}
	return b.String() + "…"
}

type discordMessage struct {
	Content         string          `json:"content"`
	Embeds          []discordEmbed  `json:"embeds"`
	AllowedMentions discordMentions `json:"allowed_mentions"`
}

type discordMentions struct {
	Parse []string `json:"parse"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	URL         string         `json:"url,omitempty"`
	Description string         `json:"description,omitempty"`
	Color       int            `json:"color"`
	Fields      []discordField `json:"fields,omitempty"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Footer      *discordFooter `json:"footer,omitempty"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}
