package metrics_test

import (
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/notify"
)

var _ notify.Observer = (*metrics.Delivery)(nil)

func TestDeliveryMetrics(t *testing.T) {
	m := metrics.New(nil)
	d := metrics.NewDelivery(m.Registry)
	d.PageDelivered("console", 1500*time.Millisecond)
	d.PageDelivered("console", 20*time.Second)
	d.PageDelivered("slack", 50*time.Millisecond)
	d.PageFailed("slack", time.Minute)
	d.PageDuplicate("console")
	d.PageDuplicate("slack")

	code, body := scrape(t, m)
	if code != 200 {
		t.Fatalf("scrape: %d", code)
	}
	mustContain(t, body,
		`alertgate_pages_delivered_total{notifier="console"} 2`,
		`alertgate_pages_delivered_total{notifier="slack"} 1`,
		`alertgate_pages_failed_total{notifier="slack"} 1`,
		`alertgate_pages_duplicate_deliveries_total 2`,
		`alertgate_page_delivery_lag_seconds_count 3`,
		`alertgate_page_delivery_lag_seconds_sum 21.55`,
		`alertgate_page_delivery_lag_seconds_bucket{le="1"} 1`,
		`alertgate_page_delivery_lag_seconds_bucket{le="2.5"} 2`,
	)
}

func TestDeliveryWaitsFailoversDigestsAndBreakers(t *testing.T) {
	m := metrics.New(nil)
	d := metrics.NewDelivery(m.Registry)
	d.PageWaiting("chat", "throttled")
	d.PageWaiting("chat", "throttled")
	d.PageWaiting("sms", "retry")
	d.PageRedelivered("sms")
	d.PageFailover("sms", "contact")
	d.PageFailover("email", "step")
	d.Digest("chat", 37)
	d.Digest("chat", 3)
	d.BreakerState("slack:https://hooks.slack.com/#ab", "open")
	d.BreakerState("slack:https://hooks.slack.com/#ab", "half-open")

	_, body := scrape(t, m)
	mustContain(t, body,
		`alertgate_pages_waiting_total{notifier="chat",reason="throttled"} 2`,
		`alertgate_pages_waiting_total{notifier="sms",reason="retry"} 1`,
		`alertgate_page_failovers_total{notifier="sms",to="contact"} 1`,
		`alertgate_pages_redelivered_total{notifier="sms"} 1`,
		`alertgate_page_failovers_total{notifier="email",to="step"} 1`,
		`alertgate_digests_delivered_total{notifier="chat"} 2`,
		`alertgate_digested_pages_total{notifier="chat"} 40`,
		`alertgate_notifier_breaker_state{state="half-open",target="slack:https://hooks.slack.com/#ab"} 1`,
		`alertgate_notifier_breaker_state{state="open",target="slack:https://hooks.slack.com/#ab"} 0`,
		`alertgate_notifier_breaker_state{state="closed",target="slack:https://hooks.slack.com/#ab"} 0`,
	)
}
