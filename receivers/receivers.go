// Package receivers turns one webhook delivery from a sender (Alertmanager,
// Grafana, Datadog, a generic JSON sender, a PagerDuty Events API v2 client)
// into a batch of canonical alerts.
//
// Every receiver decodes into private structs holding only the fields it
// uses, bounds every string, and checks every alert with Alert.Validate
// before returning it. Bad input is an *alertgate.Error with code EINVALID
// whose Field names the JSON field (e.g. "alerts[3].status"); a bad or
// missing body signature is EUNAUTHORIZED. A receiver never panics on input
// and never reports bad input as EINTERNAL.
//
// Receivers are safe for concurrent use. The strings of the alerts a parse
// returns may share one allocation with a copy of the request body, so
// keeping any of them keeps that copy alive; clone what you keep for long.
package receivers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// Receiver parses one delivery. It does not authenticate the bearer token
// (the HTTP layer does), but it does verify body signatures when the
// integration has one configured.
type Receiver interface {
	// Type is the integration type, e.g. "alertmanager".
	Type() string
	Parse(ctx context.Context, req Request) (alertgate.Batch, error)
}

// Request is one delivery as the HTTP layer read it.
type Request struct {
	Body   []byte
	Header http.Header
	// Now is the injected clock for signature timestamp checks (and, for
	// PagerDuty, the default event timestamp).
	Now time.Time
}

// New builds the receiver for one integration, chosen by in.Type. Every
// alert it returns has Source = in.Name, the integration's Service when the
// alert has none, and in.Labels added where the alert lacks them.
//
// New trusts an integration of a config that passed config.Validate, where
// every rule of an integration lives (label limits, which types take a
// signature or a generic mapping, routing keys, …): it checks again only
// what would otherwise make it panic, or accept a request the config says
// to verify without verifying it. An error from New for a validated config
// is a bug.
func New(in config.Integration) (Receiver, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("receivers: integration %q: %s", in.Name, fmt.Sprintf(format, args...))
	}
	if in.Signature != nil && !config.VerifiesSignatures(in.Type) {
		// The receiver would ignore the signature: fail closed.
		return nil, fail("signature: type %q does not verify signatures", in.Type)
	}
	c := common{in: in}
	switch in.Type {
	case config.TypeAlertmanager:
		return &alertmanagerReceiver{common: c}, nil
	case config.TypeGrafana:
		r := &grafanaReceiver{common: c}
		var err error
		if r.verify, err = newVerifier(in.Signature, config.DefaultGrafanaSignatureHeader); err != nil {
			return nil, fail("%v", err)
		}
		return r, nil
	case config.TypeDatadog:
		return &datadogReceiver{common: c}, nil
	case config.TypeGeneric:
		r, err := newGeneric(c)
		if err != nil {
			return nil, fail("%v", err)
		}
		return r, nil
	case config.TypePagerDuty:
		return &pagerDutyReceiver{common: c}, nil
	case config.TypeHeartbeat:
		return &heartbeatReceiver{common: c}, nil
	}
	return nil, fail("no receiver for type %q", in.Type)
}

// common is what every receiver shares: the integration and the final
// touches applied to every alert.
type common struct {
	in config.Integration
}

func (c *common) Type() string { return c.in.Type }

// finish applies the integration's Source, Service and Labels to every
// alert and validates it. prefix(i) names alert i in error messages.
func (c *common) finish(b *alertgate.Batch, prefix func(i int) string) error {
	for i := range b.Alerts {
		a := &b.Alerts[i]
		a.Source = c.in.Name
		if a.Service == "" {
			a.Service = c.in.Service
		}
		if a.Labels == nil {
			a.Labels = make(map[string]string, len(c.in.Labels))
		}
		for k, v := range c.in.Labels {
			if _, ok := a.Labels[k]; !ok {
				a.Labels[k] = v
			}
		}
		if err := a.Validate(); err != nil {
			return wrapValidate(prefix(i), err)
		}
	}
	return nil
}

// wrapValidate turns an Alert.Validate error into a field error under the
// alert's path.
func wrapValidate(field string, err error) error {
	msg := alertgate.ErrorMessage(err)
	if field == "" {
		field = "body"
	}
	return alertgate.FieldErrorf(field, "%s", msg)
}

// elemPath names element i of the array at path ("alerts[3]", or "[3]" for
// a top-level array).
func elemPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// join names a field below an element: join("alerts[3]", "status").
func join(parent, field string) string {
	if parent == "" {
		return field
	}
	if field == "" {
		return parent
	}
	return parent + "." + field
}

// Bounds on the strings that have no limit in alertgate.Validate.
const (
	maxDetailLen   = alertgate.MaxLabelValueLen
	maxDetails     = alertgate.MaxLabels
	maxLinkLen     = 8 << 10
	maxLinkTextLen = 256
	maxGroupKeyLen = 1024
	maxServiceLen  = alertgate.MaxLabelValueLen
)

// addLink appends an http(s) link, ignoring empty, over-long or other-scheme
// URLs (javascript: and friends must never reach a page or a chat message).
func addLink(links []alertgate.Link, href, text string) []alertgate.Link {
	href = strings.TrimSpace(href)
	if href == "" || len(href) > maxLinkLen || len(links) >= alertgate.MaxLinks || !httpURL(href) {
		return links
	}
	return append(links, alertgate.Link{Href: href, Text: alertgate.Truncate(text, maxLinkTextLen)})
}

func httpURL(s string) bool {
	if len(s) >= 8 && strings.EqualFold(s[:8], "https://") {
		return true
	}
	return len(s) >= 7 && strings.EqualFold(s[:7], "http://")
}

// setDetail stores a non-empty detail, truncated.
func setDetail(d map[string]string, k, v string) {
	if v == "" || len(d) >= maxDetails {
		return
	}
	d[k] = alertgate.Truncate(v, maxDetailLen)
}

// groupKey bounds a sender's group key: one longer than maxGroupKeyLen is
// replaced by its hash, which keeps its identity without its size.
func groupKey(s string) string {
	if len(s) <= maxGroupKeyLen {
		return s
	}
	return "sha256:" + sha256Hex(s)
}

// summary picks the first non-blank candidate, trimmed and truncated.
func summary(candidates ...string) string {
	for _, s := range candidates {
		if s = strings.TrimSpace(s); s != "" {
			return alertgate.Truncate(s, alertgate.MaxSummaryLen)
		}
	}
	return ""
}

// severityOf maps a sender's severity word; unknown or missing words become
// SeverityError, and an unknown word is kept in details["severity_raw"].
func severityOf(raw string, details map[string]string) alertgate.Severity {
	if sev, ok := alertgate.ParseSeverity(raw); ok {
		return sev
	}
	if strings.TrimSpace(raw) != "" {
		setDetail(details, "severity_raw", raw)
	}
	return alertgate.SeverityError
}
