package snapshot

import (
	"fmt"
	"net/http"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/notify"
)

// notifierTransport is every notifier's HTTP transport, shared across
// config reloads so connections are reused, not re-dialled per snapshot.
// Go's default keeps two idle connections per host; the deliverer runs up
// to delivery.per_target requests to one target at once (and a generic
// webhook may take thousands a second), so two would mean a new
// connection for most of them, and thousands of sockets in TIME_WAIT.
var notifierTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}()

// buildNotifiers makes the notifier of every configured channel, by id.
// The built-in console notifier is the server's (it writes to its
// standard output), not the config's. Each channel checks its own options
// (a Slack URL must be https, a Telegram token has a shape); what it
// refuses comes back as config problems with their lines, as
// check-config reports everything else. The channels' errors never carry
// a secret.
func buildNotifiers(cfg *config.Config) (map[string]notify.Notifier, error) {
	out := make(map[string]notify.Notifier, len(cfg.Notifiers))
	var problems []config.Problem
	for i := range cfg.Notifiers {
		n, err := buildNotifier(&cfg.Notifiers[i])
		if err != nil {
			problems = append(problems, config.Problem{Field: fmt.Sprintf("notifiers[%d]", i), Message: err.Error()})
			continue
		}
		out[cfg.Notifiers[i].ID] = n
	}
	return out, cfg.Problems(problems...)
}

// buildNotifier maps one notifier's config onto its channel's options.
func buildNotifier(n *config.Notifier) (notify.Notifier, error) {
	timeout := n.Timeout
	if timeout == 0 {
		timeout = config.DefaultNotifierTimeout
	}
	// Redirects are not followed: a webhook that redirects is misconfigured,
	// and following one could carry the payload somewhere unintended.
	client := &http.Client{Timeout: timeout, Transport: notifierTransport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	switch n.Type {
	case config.NotifierWebhook:
		secrets := make([]string, len(n.Secrets))
		for i, s := range n.Secrets {
			secrets[i] = s.Reveal()
		}
		return notify.NewWebhook(notify.WebhookOptions{URL: n.URL.Reveal(), Secrets: secrets, Headers: n.Headers, Client: client})
	case config.NotifierSlack:
		return notify.NewSlack(notify.SlackOptions{URL: n.URL.Reveal(), Client: client})
	case config.NotifierTeams:
		return notify.NewTeams(notify.TeamsOptions{URL: n.URL.Reveal(), Client: client})
	case config.NotifierDiscord:
		return notify.NewDiscord(notify.DiscordOptions{URL: n.URL.Reveal(), Client: client})
	case config.NotifierEmail:
		s := n.SMTP
		return notify.NewEmail(notify.EmailOptions{Host: s.Host, Port: s.Port, Username: s.Username,
			Password: s.Password.Reveal(), From: s.From, TLS: s.TLS, Timeout: timeout})
	case config.NotifierTwilio:
		return notify.NewTwilio(notify.TwilioOptions{AccountSID: n.AccountSID, AuthToken: n.AuthToken.Reveal(),
			From: n.From, BaseURL: n.BaseURL, Client: client})
	case config.NotifierTelegram:
		return notify.NewTelegram(notify.TelegramOptions{BotToken: n.BotToken.Reveal(), BaseURL: n.BaseURL, Client: client})
	case config.NotifierNtfy:
		return notify.NewNtfy(notify.NtfyOptions{BaseURL: n.BaseURL, Token: n.Token.Reveal(), Client: client})
	}
	return nil, fmt.Errorf("unknown notifier type %q", n.Type)
}

// NotifierLimits is the rate limit and digest threshold of the notifier
// called name: its config's, over its type's defaults. The console has
// neither: a person watching a terminal in dev mode sees every page.
func (s *Snapshot) NotifierLimits(name string) notify.Limits {
	for i := range s.Config.Notifiers {
		if n := &s.Config.Notifiers[i]; n.ID == name {
			l := n.Limits()
			return notify.Limits{PerSecond: l.PerSecond, Burst: l.Burst, DigestAfter: l.DigestAfter}
		}
	}
	return notify.Limits{}
}
