package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The generic webhook (`type: webhook`) POSTs each page as JSON to a URL
// the operator runs, signed so the receiver can tell alertgate from anyone
// else who learned the URL. docs/channels-webhook-slack.md is the
// receiver's reference: the schema, the headers and how to verify them.

// WebhookVersion is the version of the JSON body. It changes only when a
// field changes meaning or goes away; new fields may appear without it
// changing, so receivers must ignore fields they do not know.
const WebhookVersion = 1

// The headers every webhook request carries.
const (
	// HeaderIdempotencyKey is the page's key: a redelivery of the same
	// page carries the same key, so the receiver can drop duplicates.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderWebhookTimestamp is when the request was signed, in Unix
	// seconds; it is part of the signed text, which bounds replays.
	HeaderWebhookTimestamp = "X-Alertgate-Timestamp"
	// HeaderWebhookSignature is "sha256=" and the hex HMAC-SHA256, keyed
	// by the shared secret, of the timestamp, ".", and the body.
	HeaderWebhookSignature = "X-Alertgate-Signature"
)

// DefaultWebhookReplayWindow is how far a signed timestamp may be from the
// receiver's clock before VerifyWebhookSignature refuses the request.
const DefaultWebhookReplayWindow = 5 * time.Minute

// hookTimeout bounds a delivery when the caller gives no client.
const hookTimeout = 10 * time.Second

// WebhookOptions configure a generic webhook.
type WebhookOptions struct {
	// URL receives the POSTs: http or https, absolute. It may carry a
	// token in its path or query; Target and errors never show it.
	URL string
	// Secrets are the HMAC keys. Requests are signed with the first; the
	// others are accepted by receivers during a rotation (list the new
	// secret first once every receiver accepts it). No secrets means no
	// signature header: only for receivers on a trusted network.
	Secrets []string
	// Headers are sent with every request (an Authorization header for a
	// gateway in front of the receiver, say). They may not replace the
	// headers alertgate sets itself.
	Headers map[string]string
	// Client sends the requests; nil means a client with a 10 s timeout
	// that does not follow redirects (a redirected POST would lose its
	// body or, worse, send a signed page somewhere else).
	Client *http.Client
	// Now is the clock for the timestamp and sent_at; nil means time.Now.
	Now func() time.Time
}

// Webhook is the generic webhook notifier. It is safe for concurrent use.
type Webhook struct {
	url     string
	secrets [][]byte
	headers http.Header
	client  *http.Client
	now     func() time.Time
	target  string
}

// reservedWebhookHeaders are set by alertgate (or by net/http) on every
// request; options may not override them, so a config typo cannot break
// signatures or idempotency.
var reservedWebhookHeaders = []string{
	"Content-Type", "Content-Length", "Host", "User-Agent", "Transfer-Encoding", "Connection",
	HeaderIdempotencyKey,
}

// NewWebhook checks o and returns the notifier.
func NewWebhook(o WebhookOptions) (*Webhook, error) {
	u, err := hookURL("webhook", o.URL, true)
	if err != nil {
		return nil, err
	}
	w := &Webhook{url: o.URL, client: hookClient(o.Client), now: o.Now, target: hookTarget("webhook", u)}
	if w.now == nil {
		w.now = time.Now
	}
	for i, s := range o.Secrets {
		if s == "" {
			return nil, fmt.Errorf("notify: webhook: secret %d is empty", i+1)
		}
		w.secrets = append(w.secrets, []byte(s))
	}
	w.headers = make(http.Header, len(o.Headers))
	for name, value := range o.Headers {
		if !hookHeaderName(name) {
			return nil, fmt.Errorf("notify: webhook: header name %q is not a valid HTTP header name", name)
		}
		canon := http.CanonicalHeaderKey(name)
		if isReservedWebhookHeader(canon) {
			return nil, fmt.Errorf("notify: webhook: header %s is set by alertgate and cannot be configured", canon)
		}
		// The value may be a credential: name the header, never the value.
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("notify: webhook: header %s: value contains a line break or NUL", canon)
		}
		w.headers.Set(canon, value)
	}
	return w, nil
}

func isReservedWebhookHeader(canon string) bool {
	if strings.HasPrefix(canon, "X-Alertgate-") {
		return true
	}
	for _, r := range reservedWebhookHeaders {
		if canon == r {
			return true
		}
	}
	return false
}

// hookHeaderName: a non-empty RFC 9110 token.
func hookHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Target names the receiver for the per-target breaker: scheme, host and
// a hash of the whole URL, since its path or query may be a token.
func (w *Webhook) Target() string { return w.target }

// WebhookBody is the JSON a webhook receiver gets (version 1). Fields are
// always present unless marked omitempty; times are RFC 3339 in UTC.
type WebhookBody struct {
	Version int `json:"version"`
	// The page: for a digest its top-level fields describe the digest:
	// its own key, the worst severity of its items, a title such as "37
	// incidents need attention", alert_count summed over items.
	WebhookItem
	// SentAt is when this attempt was sent (it changes on a retry, the key
	// does not).
	SentAt time.Time `json:"sent_at"`

	// Kind is what the message is: "page" (asks someone to act),
	// "flapping" (the one page of a flapping incident, which then goes
	// quiet until it is stable), "resolved" (a paged incident resolved:
	// Links carry only open), "digest" (Items stand for many pages to
	// this contact), "status_update" or "reminder" (Reason carries the
	// text; Links only open). Receivers that predate it saw only pages.
	Kind string `json:"kind"`
	// DurationSeconds is how long a resolved incident lasted (since to
	// paged_at); omitted unless Kind is "resolved" and both are known.
	DurationSeconds *int64 `json:"duration_seconds,omitempty"`
	// Items are a digest's pages, most urgent first, every one of them
	// (a receiver dedupes by each item's idempotency_key); omitted unless
	// Kind is "digest".
	Items []WebhookItem `json:"items,omitempty"`
}

// WebhookItem is one page: the body of a page, and each item of a digest.
type WebhookItem struct {
	// IdempotencyKey equals the Idempotency-Key header: the same page
	// delivered twice has the same key.
	IdempotencyKey string `json:"idempotency_key"`
	IncidentID     string `json:"incident_id"`
	Title          string `json:"title"`
	Severity       string `json:"severity"`
	Service        string `json:"service"`
	AlertCount     int    `json:"alert_count"`
	// Since is when the incident started; omitted when unknown.
	Since *time.Time `json:"since,omitempty"`
	// Policy, Step and Repeat place the page in its escalation: Step is
	// 1-based (0 when no policy step made the page, e.g. a reassignment),
	// Repeat is 0 on the first pass through the policy.
	Policy string `json:"policy"`
	Step   int    `json:"step"`
	Repeat int    `json:"repeat"`
	// User is who is paged; "" when a step pages a channel.
	User string `json:"user"`
	// Reason says why this user: "on call in rotation payments-primary".
	Reason string `json:"reason"`
	// Links are omitted when alertgate has no public URL; each link is
	// omitted when empty.
	Links *WebhookLinks `json:"links,omitempty"`
	// PagedAt is when the escalation step made the page (for a notice,
	// when the incident resolved; for a digest, when it was made).
	PagedAt time.Time `json:"paged_at"`
}

// webhookItem is p as a webhook carries it.
func webhookItem(p Page) WebhookItem {
	return WebhookItem{
		IdempotencyKey: p.Key,
		IncidentID:     p.Incident,
		Title:          p.Title,
		Severity:       string(p.Severity),
		Service:        p.Service,
		AlertCount:     p.AlertCount,
		Since:          webhookSince(p.Since),
		Policy:         p.Policy,
		Step:           p.Step,
		Repeat:         p.Repeat,
		User:           p.User,
		Reason:         p.Reason,
		Links:          webhookLinks(p.Links),
		PagedAt:        p.At.UTC(),
	}
}

// WebhookLinks are the page's links for people.
type WebhookLinks struct {
	Acknowledge string `json:"acknowledge,omitempty"`
	Resolve     string `json:"resolve,omitempty"`
	Open        string `json:"open,omitempty"`
}

// NewWebhookBody is the body for p sent at sentAt.
func NewWebhookBody(p Page, sentAt time.Time) WebhookBody {
	// Every kind but a plain page says what it is (flapping, status
	// updates, reminders, and kinds to come).
	b := WebhookBody{Version: WebhookVersion, WebhookItem: webhookItem(p), SentAt: sentAt.UTC(), Kind: string(cmp.Or(p.Kind, KindPage))}
	switch p.Kind {
	case KindResolved:
		b.Kind = string(KindResolved)
		// A notice asks nothing: only the way to look at the incident.
		b.Links = webhookLinks(Links{Open: p.Links.Open})
		if d, ok := Lasted(p); ok {
			secs := int64(d / time.Second)
			b.DurationSeconds = &secs
		}
	case KindDigest:
		b.Kind = string(KindDigest)
		b.Severity = string(DigestSeverity(p))
		if b.Title == "" {
			b.Title = strings.TrimPrefix(Headline(p), "["+strings.ToUpper(b.Severity)+"] ")
		}
		if b.AlertCount == 0 {
			for _, it := range p.Items {
				b.AlertCount += it.AlertCount
			}
		}
		b.Items = make([]WebhookItem, 0, len(p.Items))
		for _, it := range p.Items {
			b.Items = append(b.Items, webhookItem(it))
		}
	}
	return b
}

func webhookSince(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func webhookLinks(l Links) *WebhookLinks {
	if l == (Links{}) {
		return nil
	}
	return &WebhookLinks{Acknowledge: l.Acknowledge, Resolve: l.Resolve, Open: l.Open}
}

// Notify POSTs p. The receiver should answer 2xx once it has the page;
// 408, 425, 429 and 5xx are retried (honouring Retry-After), any other
// answer is permanent.
func (w *Webhook) Notify(ctx context.Context, p Page) (retry bool, err error) {
	now := w.now()
	body, err := hookJSON(NewWebhookBody(p, now))
	if err != nil {
		return false, fmt.Errorf("notify: webhook: encode page %s: %w", p.Key, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("notify: webhook %s: build request", w.target)
	}
	for name, values := range w.headers {
		req.Header[name] = values
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "alertgate")
	req.Header.Set(HeaderIdempotencyKey, p.Key)
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set(HeaderWebhookTimestamp, ts)
	if len(w.secrets) > 0 {
		req.Header.Set(HeaderWebhookSignature, "sha256="+webhookMAC(w.secrets[0], ts, body))
	}
	if err := Do(ctx, w.client, req, w.now); err != nil {
		err = hookRedact(err, w.target)
		retry, _ := Failed(err)
		return retry, fmt.Errorf("notify: webhook %s: %w", w.target, err)
	}
	return false, nil
}

// webhookMAC is the hex HMAC-SHA256 of timestamp "." body. The timestamp
// is signed with the body so an old request cannot be replayed with a
// fresh timestamp.
func webhookMAC(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Why a webhook request fails verification.
var (
	ErrWebhookUnsigned  = errors.New("webhook: missing timestamp or signature")
	ErrWebhookStale     = errors.New("webhook: timestamp outside the replay window")
	ErrWebhookSignature = errors.New("webhook: signature does not match")
)

// VerifyWebhookSignature is the receiver's side, for Go receivers and as
// the reference for others: it accepts the request when its timestamp is
// within window of now (DefaultWebhookReplayWindow when window is 0) and
// its signature matches one of secrets (several during a rotation). It
// compares in constant time. Receivers should also drop repeated
// Idempotency-Keys: within the window, the same signed request can be
// sent again by anyone who saw it.
func VerifyWebhookSignature(h http.Header, body []byte, secrets []string, now time.Time, window time.Duration) error {
	ts, sig := h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if ts == "" || sig == "" {
		return ErrWebhookUnsigned
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrWebhookUnsigned, ts)
	}
	if window <= 0 {
		window = DefaultWebhookReplayWindow
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return ErrWebhookStale
	}
	got, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return fmt.Errorf("%w: want sha256=<hex>", ErrWebhookSignature)
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("%w: not hex", ErrWebhookSignature)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		want, _ := hex.DecodeString(webhookMAC([]byte(s), ts, body))
		if hmac.Equal(gotMAC, want) {
			return nil
		}
	}
	return ErrWebhookSignature
}

// hookJSON is JSON without HTML escaping, so links keep their "&"
// readable in receivers' logs; it has no trailing newline.
func hookJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// The helpers below are shared by the channels that POST to a URL that may
// itself be the secret (webhook, Slack).

// hookURL checks a channel's URL: absolute, http(s), with a host, and
// https unless httpOK or the host is loopback. Errors never quote the URL.
func hookURL(channel, raw string, httpOK bool) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("notify: %s: url is required", channel)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("notify: %s: url does not parse", channel)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("notify: %s: url must be http or https, not %q", channel, u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("notify: %s: url has no host", channel)
	case u.Fragment != "":
		return nil, fmt.Errorf("notify: %s: url must not have a #fragment", channel)
	case u.Scheme == "http" && !httpOK && !hookLoopback(u.Hostname()):
		return nil, fmt.Errorf("notify: %s: url must be https (the url is a credential)", channel)
	}
	return u, nil
}

func hookLoopback(h string) bool {
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

// hookTarget is "<channel>:<scheme>://<host>/#<hash>": enough to tell
// targets apart and to find the host, nothing that grants access.
func hookTarget(channel string, u *url.URL) string {
	sum := sha256.Sum256([]byte(u.String()))
	return channel + ":" + u.Scheme + "://" + u.Host + "/#" + hex.EncodeToString(sum[:6])
}

// hookClient is c, or the default: a 10 s timeout and no redirects.
func hookClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{
		Timeout: hookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// hookRedact replaces the URL that net/http puts in its transport errors
// ("Post \"https://hooks.slack.com/services/…\": timeout") with target.
func hookRedact(err error, target string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = target
	}
	return err
}
