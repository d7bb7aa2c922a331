package config

import (
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Notifier types.
const (
	NotifierWebhook  = "webhook"
	NotifierSlack    = "slack"
	NotifierTeams    = "teams"
	NotifierDiscord  = "discord"
	NotifierEmail    = "email"
	NotifierTwilio   = "twilio"
	NotifierTelegram = "telegram"
	NotifierNtfy     = "ntfy"
)

// NotifierTypes lists every notifier type.
var NotifierTypes = []string{NotifierWebhook, NotifierSlack, NotifierTeams, NotifierDiscord,
	NotifierEmail, NotifierTwilio, NotifierTelegram, NotifierNtfy}

// Notifier is one outbound channel: users' contacts and policy steps name
// it by id. Which fields apply depends on Type (docs/channels.md).
type Notifier struct {
	ID   string `yaml:"id"`
	Type string `yaml:"type"`

	// URL is the webhook URL (webhook, slack, teams, discord); a Secret,
	// since a webhook URL is its own credential.
	URL     Secret `yaml:"url"`
	URLFile string `yaml:"url_file"`
	// BaseURL overrides the provider's API base (twilio, telegram, ntfy),
	// for compatible providers and tests.
	BaseURL string `yaml:"base_url"`
	// Secrets sign a generic webhook's requests (HMAC-SHA256 over
	// timestamp and body); the first signs, several allow rotation.
	Secrets     []Secret `yaml:"secrets"`
	SecretsFile string   `yaml:"secrets_file"`
	// Headers are added to a generic webhook's requests.
	Headers map[string]string `yaml:"headers"`

	// SMTP is the mail server (email).
	SMTP *SMTP `yaml:"smtp"`

	// Twilio: the account, its auth token and the sending number.
	AccountSID    string `yaml:"account_sid"`
	AuthToken     Secret `yaml:"auth_token"`
	AuthTokenFile string `yaml:"auth_token_file"`
	From          string `yaml:"from"`
	// Replies: false turns SMS reply codes off (twilio only; on by
	// default when public_url is set). See RepliesOn.
	Replies *bool `yaml:"replies"`

	// BotToken is a Telegram bot's token.
	BotToken     Secret `yaml:"bot_token"`
	BotTokenFile string `yaml:"bot_token_file"`

	// Token is an ntfy access token (Bearer).
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`

	// Timeout bounds one delivery. Default 10s.
	Timeout time.Duration `yaml:"timeout"`

	// RateLimit overrides the type's default rate limit (DefaultLimits);
	// DigestAfter its digest threshold (0: no digests). See Limits.
	RateLimit   *RateLimit `yaml:"rate_limit"`
	DigestAfter *int       `yaml:"digest_after"`
}

// SMTP is a mail server alertgate sends through.
type SMTP struct {
	Host         string `yaml:"host"`
	Port         int    `yaml:"port"`
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// From is the sender, an RFC 5322 address: "alertgate <pager@example.com>".
	From string `yaml:"from"`
	// TLS is "starttls" (default: required), "tls" (implicit, port 465)
	// or "none" (a local relay only).
	TLS string `yaml:"tls"`
}

// DefaultNotifierTimeout bounds one delivery.
const DefaultNotifierTimeout = 10 * time.Second

// addressed reports whether contacts of a notifier type need an address:
// webhook channels post to their URL, whoever the page is for.
func addressed(typ string) bool {
	switch typ {
	case NotifierWebhook, NotifierSlack, NotifierTeams, NotifierDiscord:
		return false
	}
	return true
}

func (c *Config) validateNotifiers(ps *problems) {
	names := map[string]string{NotifierConsole: "the built-in console notifier"}
	for i := range c.Notifiers {
		n := &c.Notifiers[i]
		p := index("notifiers", i)
		validateName(ps, p+".id", n.ID, names)
		if !slices.Contains(NotifierTypes, n.Type) {
			ps.add(p+".type", "%q is not a notifier type: use one of %s", n.Type, strings.Join(NotifierTypes, ", "))
			continue
		}
		if n.Timeout < 0 {
			ps.add(p+".timeout", "must not be negative (default %v)", DefaultNotifierTimeout)
		}
		n.validateLimits(ps, p)
		switch n.Type {
		case NotifierWebhook, NotifierSlack, NotifierTeams, NotifierDiscord:
			if n.URL == "" && n.URLFile == "" {
				ps.add(p+".url", "required: the webhook URL to post to (${ENV} or url_file keep it out of the file)")
			} else if u, err := url.Parse(n.URL.Reveal()); n.URL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
				// Not quoted: the URL is a credential.
				ps.add(p+".url", "must be an absolute http:// or https:// URL")
			}
		case NotifierEmail:
			n.SMTP.validate(ps, p+".smtp")
		case NotifierTwilio:
			if n.AccountSID == "" {
				ps.add(p+".account_sid", "required: the Twilio account SID (AC…)")
			}
			if n.AuthToken == "" && n.AuthTokenFile == "" {
				ps.add(p+".auth_token", "required: the account's auth token")
			}
			if !isE164(n.From) {
				ps.add(p+".from", "%q is not a phone number in E.164 form, such as +15005550006", n.From)
			}
		case NotifierTelegram:
			if n.BotToken == "" && n.BotTokenFile == "" {
				ps.add(p+".bot_token", "required: the bot's token from @BotFather")
			}
		}
		if n.Replies != nil && n.Type != NotifierTwilio {
			ps.add(p+".replies", "only a twilio notifier takes SMS replies")
		}
		if n.BaseURL != "" {
			if u, err := url.Parse(n.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				ps.add(p+".base_url", "%q is not an absolute http:// or https:// URL", n.BaseURL)
			}
		}
	}
}

func (s *SMTP) validate(ps *problems, p string) {
	if s == nil {
		ps.add(p, "required: the mail server, {host, port, username, password, from}")
		return
	}
	if s.Host == "" {
		ps.add(p+".host", "required: the SMTP server's host name")
	}
	if s.Port < 0 || s.Port > 65535 {
		ps.add(p+".port", "%d is not a port", s.Port)
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		ps.add(p+".from", "%q is not a mail address such as \"alertgate <pager@example.com>\"", s.From)
	}
	switch s.TLS {
	case "", "starttls", "tls", "none":
	default:
		ps.add(p+".tls", "%q: use starttls (the default), tls (port 465) or none (a local relay only)", s.TLS)
	}
	if s.Username != "" && s.Password == "" && s.PasswordFile == "" {
		ps.add(p+".password", "required with username")
	}
}

// RepliesOn reports whether people may answer the notifier's pages by
// SMS (twilio, unless replies: false). Replies also need public_url, for
// Twilio to call.
func (n *Notifier) RepliesOn() bool {
	return n.Type == NotifierTwilio && (n.Replies == nil || *n.Replies)
}

// isE164 reports whether s is a phone number in E.164 form: "+" and 8 to
// 15 digits.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
