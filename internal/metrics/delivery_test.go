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
