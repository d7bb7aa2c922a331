package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// TelegramOptions configure the "telegram" notifier (the Bot API's
// sendMessage).
type TelegramOptions struct {
	// BotToken is the token @BotFather gave: "<bot id>:<secret>". It goes
	// in the request path, so it is kept out of every error and Target.
	BotToken string
	// BaseURL replaces https://api.telegram.org (tests, a local Bot API
	// server).
	BaseURL string
	// Client defaults to an http.Client with a 10 s timeout.
	Client *http.Client
	// Now defaults to time.Now; it dates Retry-After.
	Now func() time.Time
}

// Telegram sends each page as an HTML message to the chat p.Address (a
// numeric chat id, or @channelusername), with the links as inline URL
// buttons.
type Telegram struct {
	o        TelegramOptions
	endpoint string
	target   string
}

const telegramAPI = "https://api.telegram.org"

var (
	telegramToken = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	// telegramChannel is a public channel's or supergroup's @username.
	telegramChannel = regexp.MustCompile(`^@[A-Za-z][A-Za-z0-9_]{3,31}$`)
)

// NewTelegram checks o and returns the notifier.
func NewTelegram(o TelegramOptions) (*Telegram, error) {
	if !telegramToken.MatchString(o.BotToken) {
		// Never quote the token: it is the bot's whole credential.
		return nil, errors.New("notify: telegram: bot_token must look like \"<bot id>:<secret>\" as @BotFather gives it")
	}
	base, err := parseProviderBase(cmp.Or(o.BaseURL, telegramAPI))
	if err != nil {
		return nil, fmt.Errorf("notify: telegram: base_url: %w", err)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	sum := sha256.Sum256([]byte(o.BotToken))
	return &Telegram{
		o:        o,
		endpoint: base + "/bot" + o.BotToken + "/sendMessage",
		target:   "telegram:bot-" + hex.EncodeToString(sum[:8]),
	}, nil
}

// Target names the bot by a hash of its token: Telegram's limits are per
// bot, and the token must not show.
func (t *Telegram) Target() string { return t.target }

// telegramMessage is sendMessage's JSON body.
type telegramMessage struct {
	ChatID             any                  `json:"chat_id"`
	Text               string               `json:"text"`
	ParseMode          string               `json:"parse_mode"`
	LinkPreviewOptions telegramLinkPreview  `json:"link_preview_options"`
	ReplyMarkup        *telegramReplyMarkup `json:"reply_markup,omitempty"`
}

type telegramLinkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

type telegramReplyMarkup struct {
	InlineKeyboard [][]telegramButton `json:"inline_keyboard"`
}

type telegramButton struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// Notify sends the page to the chat p.Address.
//
// The Bot API has no idempotency key: a redelivered page is a second
// message. X-Alertgate-Idempotency-Key carries p.Key for proxies.
func (t *Telegram) Notify(ctx context.Context, p Page) (retry bool, err error) {
	chat, err := telegramChat(p.Address)
	if err != nil {
		return false, &Error{Err: fmt.Errorf("notify: telegram: %w", err)}
	}
	body, err := jsonUnescaped(telegramBody(p, chat))
	if err != nil {
		return false, fmt.Errorf("notify: telegram: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, t.endpoint, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("notify: telegram: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Alertgate-Idempotency-Key", p.Key)
	err = Do(ctx, t.o.Client, req, t.o.Now)
	if err == nil {
		return false, nil
	}
	t.clean(err)
	retry, _ = Failed(err)
	return retry, fmt.Errorf("notify: telegram: %w", err)
}

// telegramChat reads a chat address: a chat id (negative for groups and
// channels) goes as a number, @username as a string.
func telegramChat(addr string) (any, error) {
	if id, err := strconv.ParseInt(addr, 10, 64); err == nil && id != 0 {
		return id, nil
	}
	if telegramChannel.MatchString(addr) {
		return addr, nil
	}
	return nil, fmt.Errorf("address %q is neither a chat id nor an @channelusername", addr)
}

// telegramBody is sendMessage's body for p, sent to chat: the headline
// in bold, the facts one a line, link previews off (the links are ours,
// and a preview would fetch them), and the links as a row of URL buttons.
// Telegram refuses buttons whose URL it cannot reach as a public address
// (localhost, a bare host name); such links go in the text instead.
//
// A resolution notice adds "✅ Resolved after …" and has only the Open
// link. A digest lists up to DigestMaxItems items, each its headline
// (linked to the incident) and facts and an Acknowledge link in the text
// (a keyboard of 20 buttons would bury the chat), then "and N more".
func telegramBody(p Page, chat any) telegramMessage {
	m := telegramMessage{ChatID: chat, ParseMode: "HTML", LinkPreviewOptions: telegramLinkPreview{IsDisabled: true}}
	if p.Kind == KindDigest {
		m.Text = telegramDigest(p)
		return m
	}
	var b strings.Builder
	b.WriteString("<b>" + telegramEscape(cutRunes(Headline(p), 512)) + "</b>")
	links := p.Links
	if p.Kind == KindResolved {
		b.WriteString("\n✅ " + telegramEscape(Resolution(p)))
		links = Links{Open: p.Links.Open}
	}
	for _, f := range Facts(p) {
		if p.Kind == KindResolved && f[0] == "Lasted" {
			continue
		}
		b.WriteString("\n" + telegramEscape(f[0]) + ": " + telegramEscape(cutRunes(f[1], 512)))
	}
	var row []telegramButton
	buttons := true
	for _, l := range []telegramButton{
		{"Acknowledge", links.Acknowledge},
		{"Resolve", links.Resolve},
		{"Open", links.Open},
	} {
		if l.URL != "" {
			row = append(row, l)
			buttons = buttons && publicURL(l.URL)
		}
	}
	switch {
	case len(row) > 0 && buttons:
		m.ReplyMarkup = &telegramReplyMarkup{InlineKeyboard: [][]telegramButton{row}}
	case len(row) > 0:
		var as []string
		for _, l := range row {
			as = append(as, telegramLink(l.URL, l.Text))
		}
		b.WriteString("\n\n" + strings.Join(as, " · "))
	}
	m.Text = b.String()
	return m
}

func telegramLink(url, text string) string {
	return `<a href="` + telegramEscape(url) + `">` + text + "</a>"
}

// Telegram counts a message's 4096 characters after entity parsing: a
// digest keeps to telegramDigestMax of them, each item's headline and
// facts cut to telegramItemMax.
const (
	telegramDigestMax = 4000
	telegramItemMax   = 160
)

func telegramDigest(p Page) string {
	head := cutRunes(Headline(p), 512)
	intro := "Incidents: " + Facts(p)[0][1]
	var b strings.Builder
	b.WriteString("<b>" + telegramEscape(head) + "</b>\n" + telegramEscape(intro))
	plain := runeLen(head) + 1 + runeLen(intro)
	shown, more := DigestShown(p)
	for i, it := range shown {
		title := cutRunes(Headline(it), telegramItemMax)
		line := cutRunes(ItemLine(it), telegramItemMax)
		n := 2 + runeLen(title) + 1 + runeLen(line)
		item := "\n\n<b>" + telegramEscape(title) + "</b>"
		if it.Links.Open != "" {
			item = "\n\n<b>" + telegramLink(it.Links.Open, telegramEscape(title)) + "</b>"
		}
		item += "\n" + telegramEscape(line)
		if it.Links.Acknowledge != "" {
			item += " · " + telegramLink(it.Links.Acknowledge, "Acknowledge")
			n += len(" · Acknowledge")
		}
		// Room for this item and the "and N more" line after it.
		if plain+n+20 > telegramDigestMax {
			more += len(shown) - i
			break
		}
		b.WriteString(item)
		plain += n
	}
	if more > 0 {
		b.WriteString("\n\n" + More(more))
	}
	return b.String()
}

// telegramEscape escapes what Telegram's HTML parse mode reads as markup:
// "<", ">" and "&" everywhere, and '"' inside attributes. Telegram knows
// only these named entities (&lt; &gt; &amp; &quot;). Every value it
// escapes is one line of the message, so control characters (a sender's
// CR and LF among them) become spaces: a title cannot add lines that look
// like the message's own.
func telegramEscape(s string) string {
	return telegramMarkup.Replace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

var telegramMarkup = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// publicURL reports whether Telegram will take u for a URL button: http
// or https, and a host with a dot that is not a loopback or private IP.
func publicURL(u string) bool {
	v, err := url.Parse(u)
	if err != nil || (v.Scheme != "http" && v.Scheme != "https") {
		return false
	}
	host := v.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsUnspecified() && !ip.IsLinkLocalUnicast()
	}
	return strings.Contains(host, ".") && !strings.HasSuffix(host, ".localhost")
}

// cutRunes cuts s to at most n runes, marking a cut with "…". Telegram's
// text limit is 4096 characters; with each value cut to 512 no message
// comes near it.
func cutRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// clean makes an error from Do safe and useful: net/http quotes the
// request URL, which holds the token, so the token is blanked there and
// in the detail; a Telegram error body becomes its description, and its
// retry_after becomes the wait.
func (t *Telegram) clean(err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = strings.ReplaceAll(ue.URL, t.o.BotToken, "<token>")
	}
	var e *Error
	if !errors.As(err, &e) {
		return
	}
	var body struct {
		Description string `json:"description"`
		Parameters  struct {
			RetryAfter      int   `json:"retry_after"`
			MigrateToChatID int64 `json:"migrate_to_chat_id"`
		} `json:"parameters"`
	}
	if json.Unmarshal([]byte(e.Detail), &body) == nil && body.Description != "" {
		e.Detail = body.Description
		if body.Parameters.MigrateToChatID != 0 {
			e.Detail += fmt.Sprintf(" (the group is now the supergroup %d: use that chat id)", body.Parameters.MigrateToChatID)
		}
		if body.Parameters.RetryAfter > 0 {
			e.RetryAfter = time.Duration(body.Parameters.RetryAfter) * time.Second
		}
	}
	e.Detail = strings.ReplaceAll(e.Detail, t.o.BotToken, "<token>")
	blankSecrets(e, t.o.BotToken[strings.IndexByte(t.o.BotToken, ':')+1:])
}

// jsonUnescaped is json.Marshal without the \u003c escapes for "<", ">"
// and "&": the bodies carry HTML and URLs, and stay readable on the wire
// and in golden files.
func jsonUnescaped(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
