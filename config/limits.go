package config

import "time"

// RateLimit is how fast alertgate may send to one notifier's target.
type RateLimit struct {
	// Messages per Per (default 1s), after a burst of Burst: {messages:
	// 5, per: 2s, burst: 5}. Messages 0 (or the whole block left out)
	// takes the type's default (DefaultLimits).
	Messages int           `yaml:"messages"`
	Per      time.Duration `yaml:"per"`
	Burst    int           `yaml:"burst"`
	// Off lifts the limit (the provider's own 429s still hold delivery
	// back: the deliverer honours Retry-After).
	Off bool `yaml:"off"`
}

// Limits are a notifier's effective rate limit and digest threshold.
type Limits struct {
	// PerSecond is 0 when unlimited.
	PerSecond   float64
	Burst       int
	DigestAfter int // 0: never digest
}

// DefaultLimits are each type's published limits, so a storm does not get
// alertgate's messages refused (docs/delivery.md has the sources):
//   - Slack incoming webhooks: 1 message per second, short bursts allowed;
//   - Teams (connectors' published limit, which Workflows inherit): 4
//     requests per second, 60 per 30 s: 2 per second;
//   - Discord webhooks: 5 requests per 2 s per webhook;
//   - Telegram: about 1 message per second per chat, 30 per second in
//     all (the limit here is per bot, so the per-chat figure rules);
//   - Twilio: 1 message per second per long-code sender number;
//   - ntfy.sh: a burst of 60, then 1 per 5 s per visitor.
//
// E-mail and generic webhooks have no published limit: none is applied.
// Digests are for people: a channel that reaches a person or a room
// merges 5 or more messages to one contact in one pass into one; a
// generic webhook (a machine) and the console get every page on its own.
var DefaultLimits = map[string]Limits{
	NotifierSlack:    {PerSecond: 1, Burst: 3, DigestAfter: DefaultDigestAfter},
	NotifierTeams:    {PerSecond: 2, Burst: 4, DigestAfter: DefaultDigestAfter},
	NotifierDiscord:  {PerSecond: 2.5, Burst: 5, DigestAfter: DefaultDigestAfter},
	NotifierTelegram: {PerSecond: 1, Burst: 3, DigestAfter: DefaultDigestAfter},
	NotifierTwilio:   {PerSecond: 1, Burst: 1, DigestAfter: DefaultDigestAfter},
	NotifierNtfy:     {PerSecond: 0.2, Burst: 60, DigestAfter: DefaultDigestAfter},
	NotifierEmail:    {DigestAfter: DefaultDigestAfter},
	NotifierWebhook:  {},
}

// DefaultDigestAfter is how many messages to one contact, ready at once,
// become one digest.
const DefaultDigestAfter = 5

// Limits returns the notifier's rate limit and digest threshold: its own
// settings over its type's defaults.
func (n *Notifier) Limits() Limits {
	l := DefaultLimits[n.Type]
	if r := n.RateLimit; r != nil {
		switch {
		case r.Off:
			l.PerSecond, l.Burst = 0, 0
		case r.Messages > 0:
			per := r.Per
			if per <= 0 {
				per = time.Second
			}
			l.PerSecond, l.Burst = float64(r.Messages)/per.Seconds(), max(r.Burst, 1)
		case r.Burst > 0:
			l.Burst = r.Burst
		}
	}
	if n.DigestAfter != nil {
		l.DigestAfter = max(*n.DigestAfter, 0)
	}
	return l
}

func (n *Notifier) validateLimits(ps *problems, p string) {
	if r := n.RateLimit; r != nil {
		if r.Messages < 0 {
			ps.add(p+".rate_limit.messages", "must not be negative")
		}
		if r.Per < 0 || (r.Per > 0 && r.Per < time.Millisecond) {
			ps.add(p+".rate_limit.per", "must be at least 1ms (default 1s)")
		}
		if r.Per > 0 && r.Messages == 0 && !r.Off {
			ps.add(p+".rate_limit.messages", "required with per: how many messages per %v", r.Per)
		}
		if r.Burst < 0 {
			ps.add(p+".rate_limit.burst", "must not be negative")
		}
		if r.Off && (r.Messages != 0 || r.Per != 0 || r.Burst != 0) {
			ps.add(p+".rate_limit.off", "off lifts the limit: leave messages, per and burst out")
		}
	}
	if n.DigestAfter != nil && *n.DigestAfter == 1 {
		ps.add(p+".digest_after", "a digest of one message is the message: use 2 or more, or 0 for no digests")
	} else if n.DigestAfter != nil && *n.DigestAfter < 0 {
		ps.add(p+".digest_after", "must not be negative (0: no digests)")
	}
}

// Defaults of the delivery settings beyond claim_after, max_attempts and
// poll_interval.
const (
	DefaultDeliveryRetryInitial    = 2 * time.Second
	DefaultDeliveryRetryMax        = time.Minute
	DefaultDeliveryGiveUpAfter     = 5 * time.Minute
	DefaultDeliveryBreakerFailures = 5
	DefaultDeliveryBreakerOpenFor  = 30 * time.Second
	DefaultDeliveryPerTarget       = 4
)

func (d *Delivery) applyDefaults() {
	setIfZero(&d.RetryInitial, DefaultDeliveryRetryInitial)
	setIfZero(&d.RetryMax, DefaultDeliveryRetryMax)
	setIfZero(&d.GiveUpAfter, DefaultDeliveryGiveUpAfter)
	setIfZero(&d.BreakerFailures, DefaultDeliveryBreakerFailures)
	setIfZero(&d.BreakerOpenFor, DefaultDeliveryBreakerOpenFor)
	setIfZero(&d.PerTarget, DefaultDeliveryPerTarget)
}

func (d *Delivery) validateRetries(ps *problems) {
	if d.RetryInitial < 10*time.Millisecond {
		ps.add("delivery.retry_initial", "must be at least 10ms (default %v)", DefaultDeliveryRetryInitial)
	}
	if d.RetryMax < d.RetryInitial {
		ps.add("delivery.retry_max", "must be at least retry_initial (%v)", d.RetryInitial)
	}
	if d.GiveUpAfter < time.Second {
		ps.add("delivery.give_up_after", "must be at least 1s (default %v)", DefaultDeliveryGiveUpAfter)
	}
	if d.BreakerFailures < 1 {
		ps.add("delivery.breaker_failures", "must be at least 1 (default %d)", DefaultDeliveryBreakerFailures)
	}
	if d.BreakerOpenFor < 100*time.Millisecond {
		ps.add("delivery.breaker_open_for", "must be at least 100ms (default %v)", DefaultDeliveryBreakerOpenFor)
	}
	if d.PerTarget < 1 {
		ps.add("delivery.per_target", "must be at least 1 (default %d)", DefaultDeliveryPerTarget)
	}
}
