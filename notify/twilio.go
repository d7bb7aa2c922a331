package notify

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// TwilioOptions configure the "twilio" notifier (SMS through Twilio's
// Programmable Messaging API).
type TwilioOptions struct {
	// AccountSID ("AC" and 32 hex digits) names the account in the URL and
	// is the basic-auth user; AuthToken is its password.
	AccountSID string
	AuthToken  string
	// From is the sending number in E.164 form; MessagingServiceSID
	// ("MG…") lets Twilio pick the sender from a service's pool instead.
	// Exactly one of them.
	From                string
	MessagingServiceSID string
	// BaseURL replaces https://api.twilio.com (tests, regional edges).
	BaseURL string
	// Client defaults to an http.Client with a 10 s timeout.
	Client *http.Client
	// Now defaults to time.Now; it dates Retry-After and the page's age.
	Now func() time.Time
}

// Twilio sends each page as one SMS: the short text, the acknowledge link
// and the reply hint, in one 160-character GSM-7 segment whenever that can
// be done; notices and digests likewise (SMSBody).
type Twilio struct {
	o        TwilioOptions
	endpoint string
}

const twilioAPI = "https://api.twilio.com"

var (
	twilioAccountSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	twilioServiceSID = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	// e164 is ITU-T E.164 as Twilio takes it: "+", a country code that
	// does not start with 0, at most 15 digits in all.
	e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
)

// NewTwilio checks o and returns the notifier.
func NewTwilio(o TwilioOptions) (*Twilio, error) {
	if !twilioAccountSID.MatchString(o.AccountSID) {
		return nil, errors.New("notify: twilio: account_sid must be \"AC\" followed by 32 hex digits")
	}
	if o.AuthToken == "" {
		return nil, errors.New("notify: twilio: auth_token is required")
	}
	switch {
	case o.From == "" && o.MessagingServiceSID == "":
		return nil, errors.New("notify: twilio: one of from or messaging_service_sid is required")
	case o.From != "" && o.MessagingServiceSID != "":
		return nil, errors.New("notify: twilio: from and messaging_service_sid exclude each other")
	case o.From != "" && !e164.MatchString(o.From):
		return nil, fmt.Errorf("notify: twilio: from %q is not an E.164 number (+ and up to 15 digits)", o.From)
	case o.MessagingServiceSID != "" && !twilioServiceSID.MatchString(o.MessagingServiceSID):
		return nil, errors.New("notify: twilio: messaging_service_sid must be \"MG\" followed by 32 hex digits")
	}
	base, err := parseProviderBase(cmp.Or(o.BaseURL, twilioAPI))
	if err != nil {
		return nil, fmt.Errorf("notify: twilio: base_url: %w", err)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Twilio{o: o, endpoint: base + "/2010-04-01/Accounts/" + o.AccountSID + "/Messages.json"}, nil
}

// Target is the account: Twilio's rate limits and outages are per
// account, and the SID is not a secret.
func (t *Twilio) Target() string { return "twilio:" + t.o.AccountSID }

// Notify sends the page's SMS to p.Address.
//
// Twilio's Messages API takes no idempotency key (I-Twilio-Idempotency-
// Token is a header Twilio sets on the webhooks it sends, not one the
// create call reads), so a redelivered page is a second SMS. The key
// still goes in X-Alertgate-Idempotency-Key for proxies in between.
func (t *Twilio) Notify(ctx context.Context, p Page) (retry bool, err error) {
	if !e164.MatchString(p.Address) {
		return false, &Error{Err: fmt.Errorf("notify: twilio: address %q is not an E.164 number (+ and up to 15 digits)", p.Address)}
	}
	form := url.Values{}
	form.Set("To", p.Address)
	if t.o.From != "" {
		form.Set("From", t.o.From)
	} else {
		form.Set("MessagingServiceSid", t.o.MessagingServiceSID)
	}
	form.Set("Body", SMSBody(p, t.o.Now()))
	req, err := http.NewRequest(http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return false, fmt.Errorf("notify: twilio: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Alertgate-Idempotency-Key", p.Key)
	req.SetBasicAuth(t.o.AccountSID, t.o.AuthToken)
	err = Do(ctx, t.o.Client, req, t.o.Now)
	if err == nil {
		return false, nil
	}
	twilioDetail(err, t.o.AuthToken, basicCredentials(t.o.AccountSID, t.o.AuthToken))
	retry, _ = Failed(err)
	return retry, fmt.Errorf("notify: twilio: %w", err)
}

// twilioDetail replaces a Twilio error body with its code and message.
// The status decides retries: Twilio answers 400 for a bad number or
// sender (21211, 21606, …), 401 for bad credentials, 429 (20429) for
// requests it never processed and which are "always safe to retry".
func twilioDetail(err error, secrets ...string) {
	var e *Error
	if !errors.As(err, &e) || e.Detail == "" {
		return
	}
	defer blankSecrets(e, secrets...)
	var body struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	if json.Unmarshal([]byte(e.Detail), &body) != nil || body.Code == 0 {
		return
	}
	e.Detail = fmt.Sprintf("twilio error %d: %s", body.Code, body.Message)
	if body.MoreInfo != "" {
		e.Detail += " (" + body.MoreInfo + ")"
	}
}

// SMS segment sizes: one GSM-7 segment holds 160 septets; a message with
// any character outside GSM-7 goes as UCS-2, 70 UTF-16 units a segment.
const (
	gsm7Segment = 160
	ucs2Segment = 70
	// smsMinText is the least of the page's text an SMS keeps beside its
	// link; below it the message grows a second segment rather than say
	// nothing but a URL.
	smsMinText = 40
)

// SMSBody is the SMS for p, one segment whenever it can be.
//
// A page is notify.Short, then the acknowledge link (or, without one, the
// open link) on its own line as "ack: URL", then, when the page has a
// reply code, "Reply 1a ack, 1r resolve". The text is transliterated to
// GSM-7 where it can be (" · " → " - ", "…" → "...", curly quotes,
// dashes, common accents), so an ASCII or Western title fits 160
// characters; a title GSM-7 cannot carry (Cyrillic, CJK, emoji) makes it
// a 70-unit UCS-2 segment. To fit, the title is cut first (the service,
// alert count, age and incident stay); only when that leaves too little
// is the whole text cut. With a reply code, a link too long for one
// segment is left out (the reply does what it would); without one, only
// a link too long to leave smsMinText of text makes a second segment.
//
// A resolution notice is "[RESOLVED] <title> - db - lasted 1h 35m - #42"
// and its open link when both fit one segment. A digest is "37 incidents
// need you: [CRITICAL] Disk full... and 36 more", its first item's title
// cut to fit; it carries no link (one link would stand for one of many).
func SMSBody(p Page, now time.Time) string {
	switch p.Kind {
	case KindDigest:
		prefix, first, suffix := DigestShortParts(p)
		body, _ := smsCompose(toGSM7(prefix+first), toGSM7(suffix), "")
		return body
	case KindResolved:
		head, tail := shortParts(p, now)
		head, tail = toGSM7(head), toGSM7(tail)
		if p.Links.Open != "" {
			if body, one := smsCompose(head, tail, "\nopen: "+p.Links.Open); one {
				return body
			}
		}
		body, _ := smsCompose(head, tail, "")
		return body
	}
	var link, reply string
	switch {
	case p.Links.Acknowledge != "":
		link = "\nack: " + p.Links.Acknowledge
	case p.Links.Open != "":
		link = "\nopen: " + p.Links.Open
	}
	if c := smsReplyCode(p.ReplyCode); c != "" {
		reply = "\nReply " + c + "a ack, " + c + "r resolve"
	}
	head, tail := shortParts(p, now)
	head, tail = toGSM7(head), toGSM7(tail)
	body, one := smsCompose(head, tail, link+reply)
	if !one && link != "" && reply != "" {
		body, _ = smsCompose(head, tail, reply)
	}
	return body
}

// smsMinTitle is the least of the headline ("[CRITICAL] " and a few
// letters) worth keeping when the title is cut first; with less room the
// whole text is cut instead.
const smsMinTitle = 20

// smsCompose is head+tail+suffix, cut to one segment when it can be:
// the head (the title) first, then the whole text; suffix (links, the
// reply hint) is never cut, and the text keeps at least smsMinText units.
// one reports whether the result is one segment.
func smsCompose(head, tail, suffix string) (body string, one bool) {
	limit := gsm7Segment
	if !isGSM7(head + tail + suffix) {
		limit = ucs2Segment
	}
	room := limit - smsUnits(suffix)
	text := head + tail
	switch {
	case smsUnits(text) <= room:
	case room-smsUnits(tail) >= smsMinTitle:
		text = cutSMS(head, room-smsUnits(tail)) + tail
	default:
		text = cutSMS(text, max(room, smsMinText))
	}
	body = text + suffix
	return body, smsUnits(body) <= limit
}

// smsReplyCode is the reply code as it can appear in an SMS: letters and
// digits only, so it is GSM-7 and cannot be read as something else.
func smsReplyCode(c string) string {
	if len(c) > 8 {
		return ""
	}
	for _, r := range c {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return ""
		}
	}
	return c
}

// cutSMS cuts s to at most room units, marking a cut with "..." (GSM-7)
// or "…" (UCS-2).
func cutSMS(s string, room int) string {
	if smsUnits(s) <= room {
		return s
	}
	ellipsis := "..."
	if !isGSM7(s) {
		ellipsis = "…"
	}
	room -= smsUnits(ellipsis)
	var b strings.Builder
	used := 0
	for _, r := range s {
		n := smsUnits(string(r))
		if used+n > room {
			break
		}
		used += n
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " -") + ellipsis
}

// smsUnits is s's length on the air: septets for GSM-7 (the extension
// characters take two), UTF-16 units for UCS-2.
func smsUnits(s string) int {
	if !isGSM7(s) {
		n := 0
		for _, r := range s {
			if r > 0xFFFF {
				n += 2
			} else {
				n++
			}
		}
		return n
	}
	n := 0
	for _, r := range s {
		if strings.ContainsRune(gsm7Extension, r) {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// The GSM 03.38 default alphabet and its extension table (each extension
// character is sent as escape + character).
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "^{}\\[~]|€"
)

func isGSM7(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune(gsm7Basic, r) && !strings.ContainsRune(gsm7Extension, r) {
			return false
		}
	}
	return true
}

// gsm7Lookalikes are the characters alerts and notify.Short commonly use
// that GSM-7 lacks, with the nearest GSM-7 spelling.
var gsm7Lookalikes = map[rune]string{
	'·': "-", '•': "-", '…': "...", '–': "-", '—': "-", '−': "-",
	'‘': "'", '’': "'", '‚': "'", '“': "\"", '”': "\"", '„': "\"", '«': "\"", '»': "\"",
	'\u00a0': " ", '\t': " ", '×': "x", '→': "->", '←': "<-",
	'á': "a", 'â': "a", 'ã': "a", 'ā': "a", 'ą': "a", 'Á': "A", 'À': "A", 'Â': "A", 'Ã': "A",
	'ç': "c", 'č': "c", 'ć': "c", 'Č': "C", 'Ć': "C",
	'ê': "e", 'ë': "e", 'ē': "e", 'ę': "e", 'ě': "e", 'È': "E", 'Ê': "E", 'Ë': "E",
	'í': "i", 'î': "i", 'ï': "i", 'Í': "I", 'Ì': "I", 'Î': "I", 'Ï': "I",
	'ó': "o", 'ô': "o", 'õ': "o", 'ő': "ö", 'Ó': "O", 'Ò': "O", 'Ô': "O", 'Õ': "O", 'Ő': "Ö",
	'ú': "u", 'û': "u", 'ű': "ü", 'ū': "u", 'Ú': "U", 'Ù': "U", 'Û': "U", 'Ű': "Ü",
	'ý': "y", 'ÿ': "y", 'Ý': "Y", 'ł': "l", 'Ł': "L", 'ń': "n", 'ň': "n", 'ř': "r",
	'ś': "s", 'š': "s", 'Š': "S", 'Ś': "S", 'ž': "z", 'ź': "z", 'ż': "z", 'Ž': "Z",
	'ť': "t", 'ď': "d", 'đ': "d", 'Đ': "D", 'ð': "d", 'þ': "th", 'œ': "oe", 'Œ': "OE",
}

// toGSM7 replaces control characters with spaces and the characters in
// gsm7Lookalikes with their GSM-7 spelling; anything else it leaves, so
// a title GSM-7 cannot spell keeps its own letters (as UCS-2).
func toGSM7(s string) string {
	var b strings.Builder
	for _, r := range s {
		if v, ok := gsm7Lookalikes[r]; ok {
			b.WriteString(v)
		} else if unicode.IsControl(r) {
			b.WriteByte(' ')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// blankSecrets blanks each secret in e's detail: a proxy or server that
// echoes the request (its Authorization header, its path) must not put a
// credential into an error, which ends up in logs and on the timeline.
func blankSecrets(e *Error, secrets ...string) {
	for _, s := range secrets {
		if s != "" {
			e.Detail = strings.ReplaceAll(e.Detail, s, "<secret>")
		}
	}
}

// basicCredentials is the base64 form of user and password that basic
// auth sends, a secret as good as the password.
func basicCredentials(user, password string) string {
	if user == "" && password == "" {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// parseProviderBase checks a provider's API base URL (http or https, a
// host, no credentials, query or fragment) and returns it without a
// trailing slash.
func parseProviderBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("scheme %q: want http or https", u.Scheme)
	case u.Host == "":
		return "", errors.New("no host")
	case u.User != nil:
		return "", errors.New("credentials do not belong in the URL")
	case u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("no query or fragment allowed")
	}
	return strings.TrimRight(u.String(), "/"), nil
}
