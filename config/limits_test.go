package config

import (
	"strings"
	"testing"
	"time"
)

func TestNotifierLimits(t *testing.T) {
	five, off := 5, 0
	for _, c := range []struct {
		name string
		n    Notifier
		want Limits
	}{
		{"slack default", Notifier{Type: NotifierSlack}, Limits{PerSecond: 1, Burst: 3, DigestAfter: 5}},
		{"webhook default: none", Notifier{Type: NotifierWebhook}, Limits{}},
		{"email: digests, no limit", Notifier{Type: NotifierEmail}, Limits{DigestAfter: 5}},
		{"ntfy: 1 per 5s", Notifier{Type: NotifierNtfy}, Limits{PerSecond: 0.2, Burst: 60, DigestAfter: 5}},
		{"own limit", Notifier{Type: NotifierSlack, RateLimit: &RateLimit{Messages: 5, Per: 2 * time.Second, Burst: 5}},
			Limits{PerSecond: 2.5, Burst: 5, DigestAfter: 5}},
		{"per defaults to 1s, burst to 1", Notifier{Type: NotifierWebhook, RateLimit: &RateLimit{Messages: 10}},
			Limits{PerSecond: 10, Burst: 1}},
		{"burst alone", Notifier{Type: NotifierSlack, RateLimit: &RateLimit{Burst: 10}}, Limits{PerSecond: 1, Burst: 10, DigestAfter: 5}},
		{"off", Notifier{Type: NotifierTwilio, RateLimit: &RateLimit{Off: true}}, Limits{DigestAfter: 5}},
		{"digests off", Notifier{Type: NotifierSlack, DigestAfter: &off}, Limits{PerSecond: 1, Burst: 3}},
		{"webhook digests on", Notifier{Type: NotifierWebhook, DigestAfter: &five}, Limits{DigestAfter: 5}},
	} {
		if got := c.n.Limits(); got != c.want {
			t.Errorf("%s: Limits() = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestNotifierLimitProblems(t *testing.T) {
	one, neg := 1, -2
	for _, c := range []struct {
		n    Notifier
		want string
	}{
		{Notifier{RateLimit: &RateLimit{Messages: -1}}, "n.rate_limit.messages: must not be negative"},
		{Notifier{RateLimit: &RateLimit{Per: time.Second}}, "n.rate_limit.messages: required with per: how many messages per 1s"},
		{Notifier{RateLimit: &RateLimit{Messages: 1, Per: time.Microsecond}}, "n.rate_limit.per: must be at least 1ms (default 1s)"},
		{Notifier{RateLimit: &RateLimit{Off: true, Messages: 3}}, "n.rate_limit.off: off lifts the limit: leave messages, per and burst out"},
		{Notifier{RateLimit: &RateLimit{Burst: -1}}, "n.rate_limit.burst: must not be negative"},
		{Notifier{DigestAfter: &one}, "n.digest_after: a digest of one message is the message: use 2 or more, or 0 for no digests"},
		{Notifier{DigestAfter: &neg}, "n.digest_after: must not be negative (0: no digests)"},
	} {
		var ps problems
		c.n.validateLimits(&ps, "n")
		var got []string
		for _, p := range ps.list {
			got = append(got, p.String())
		}
		if len(got) != 1 || !strings.Contains(got[0], c.want) {
			t.Errorf("%+v: problems %q, want one: %q", c.n.RateLimit, got, c.want)
		}
	}
}
