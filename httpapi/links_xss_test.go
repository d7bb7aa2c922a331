package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/alertgate/alertgate/actionlink"
)

// Issue 9: a link's confirmation and result pages show the incident's
// title and service, which a sender wrote; they must come out as text.

var linkHostile = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'><svg onload=alert(1)>`,
	`<a href="javascript:alert(1)">click</a>`,
	`&lt;b&gt; &amp; &#60;i&#62;`,
	`</title><script>alert(1)</script>`,
	`</style><script>alert(1)</script>`,
	`<!channel> <@U123> [x](javascript:alert(1))`,
	"in\u200bvis\u200dible \u202egnp.exe\u202c",
	strings.Repeat("<&>", 200),
}

// amHostileBody is an Alertmanager webhook whose alert says s wherever a
// sender's text goes.
func amHostileBody(t *testing.T, fp, s string) string {
	t.Helper()
	alert := map[string]any{
		"status":      "firing",
		"labels":      map[string]string{"alertname": "X " + s, "instance": fp, "severity": "critical", "service": "svc " + s},
		"annotations": map[string]string{"summary": "T " + s, "description": s},
		"startsAt":    "2026-11-25T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": fp,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // within ingest.max_body_bytes
	if err := enc.Encode(map[string]any{
		"version": "4", "groupKey": "{}:{instance=\"" + fp + "\"}", "status": "firing", "receiver": "x", "groupLabels": map[string]string{},
		"commonLabels": map[string]string{}, "commonAnnotations": map[string]string{}, "externalURL": "http://am:9093",
		"alerts": []any{alert},
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	linkTag   = regexp.MustCompile(`(?i)<(/?)([a-z][a-z0-9-]*|!doctype)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*/?>`)
	linkAttr  = regexp.MustCompile(`\s*([^\s=>]+)(?:="([^"]*)")?`)
	linkStyle = regexp.MustCompile(`(?s)<style>.*?</style>`)
	// linkAction: a form posts back to its link, /a/<token> or the
	// token alone (relative to the page's own /a/<token>).
	linkAction = regexp.MustCompile(`^(/a/)?[A-Za-z0-9._~-]+$`)
	// linkPageTags are the elements link.html writes.
	linkPageTags = map[string]bool{"!doctype": true, "html": true, "head": true, "meta": true, "title": true, "style": true,
		"body": true, "main": true, "h1": true, "div": true, "p": true, "dl": true, "dt": true, "dd": true,
		"form": true, "input": true, "button": true}
)

// linkPageInert checks a link page tag by tag: only the template's own
// elements (the one style element is the template's, from link.css), no
// event handlers, forms that post back to /a/ only, and no "<" or ">"
// outside a tag.
func linkPageInert(t linkReporter, where, body string) {
	t.Helper()
	if n := strings.Count(body, "<style>"); n > 1 {
		t.Errorf("%s: %d style elements", where, n)
	}
	body = linkStyle.ReplaceAllString(body, "")
	for _, m := range linkTag.FindAllStringSubmatch(body, -1) {
		tag, name := m[0], strings.ToLower(m[2])
		if !linkPageTags[name] {
			t.Errorf("%s: <%s> element %q", where, name, tag)
		}
		for _, a := range linkAttr.FindAllStringSubmatch(m[3], -1) {
			key, v := strings.ToLower(a[1]), html.UnescapeString(a[2])
			switch {
			case strings.HasPrefix(key, "on"), key == "href", key == "src", key == "formaction", key == "style":
				t.Errorf("%s: attribute %s in %q", where, key, tag)
			case key == "action" && !linkAction.MatchString(v):
				t.Errorf("%s: form to %q", where, v)
			}
		}
	}
	if rest := linkTag.ReplaceAllString(body, ""); strings.ContainsAny(rest, "<>") {
		t.Errorf("%s: raw < or > outside a tag in\n%s", where, body)
	}
}

func TestLinkPagesEscapeHostileText(t *testing.T) {
	f := newLinkFixture(t)
	for i, s := range linkHostile {
		t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
			fp := fmt.Sprintf("xss%02d", i)
			resp, body := f.do(t, "POST", "/hooks/am", "am-token", amHostileBody(t, fp, s))
			var ing struct{ Incidents []string }
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ing) != nil || len(ing.Incidents) != 1 {
				t.Fatalf("ingest: %d %s", resp.StatusCode, body)
			}
			id := ing.Incidents[0]
			inc := f.incident(t, id)
			if !strings.Contains(inc.Title, s) {
				t.Fatalf("the hostile text is not in the title %q: the test would prove nothing", inc.Title)
			}
			for _, a := range []actionlink.Action{actionlink.Open, actionlink.Acknowledge} {
				tok := f.token(t, id, a, 1)
				resp, page := f.get(t, "GET", "/a/"+tok, "")
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s page: %d\n%s", a, resp.StatusCode, page)
				}
				linkPageInert(t, string(a)+" page", page)
				if shown := html.EscapeString("T " + s); !strings.Contains(page, shown[:min(40, len(shown))]) {
					t.Errorf("%s page does not show the title as text:\n%s", a, page)
				}
				if a == actionlink.Acknowledge {
					resp, done := f.post(t, "/a/"+tok, url.Values{"confirm": {f.confirm(t, tok)}}, sameOrigin(f))
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("acknowledge: %d\n%s", resp.StatusCode, done)
					}
					linkPageInert(t, "acknowledged page", done)
				}
			}
			// A link that is no link: the problem page.
			resp, page := f.get(t, "GET", "/a/"+url.PathEscape(s), "")
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("bad token: %d, want a 4xx", resp.StatusCode)
			}
			linkPageInert(t, "problem page", page)
		})
	}
}

// TestLinkPageInertCatchesHostileHTML: linkPageInert can fail.
func TestLinkPageInertCatchesHostileHTML(t *testing.T) {
	for _, bad := range []string{
		`<p><script>alert(1)</script></p>`, `<p onclick="x">`, `<form action="https://evil.example/">`,
		`<p>a > b</p>`, `<img src=x>`, `<form action="javascript:alert(1)">`, `<form action="//evil.example/a">`, `<style>a</style><style>b</style>`,
	} {
		var c linkFailures
		linkPageInert(&c, "self-test", bad)
		if c == 0 {
			t.Errorf("linkPageInert passes %q", bad)
		}
	}
}

// linkReporter is what linkPageInert needs of a test, so that its own
// test can hand it a counter.
type linkReporter interface {
	Helper()
	Errorf(format string, args ...any)
}

type linkFailures int

func (*linkFailures) Helper()                 {}
func (c *linkFailures) Errorf(string, ...any) { *c++ }
