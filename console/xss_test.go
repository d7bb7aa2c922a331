package console_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/alertgate/alertgate"
)

// Issue 9: what an alert says comes out of every console page as text.
// TestXSSIsEscaped covers the classic payloads on the incident pages;
// these go through the whole corpus, on every page that shows alert or
// form text, and check the page tag by tag.

var hostileCorpus = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'><svg onload=alert(1)>`,
	`<a href="javascript:alert(1)">click</a>`,
	`javascript:alert(1)`,
	`&lt;script&gt; &amp; &#60;b&#62; &quot;`,
	`</textarea><script>alert(1)</script>`,
	`<!channel> <@U123> <http://evil.example|click>`,
	`[click](javascript:alert(1))`,
	"in\u200bvis\u200dible \u202egnp.exe\u202c",
	"crlf\r\nSet-Cookie: x=1",
	`{{.}} ${7*7} <%= 7*7 %>`,
	strings.Repeat("<&>", 1000),
}

var (
	pageTag  = regexp.MustCompile(`(?i)<(/?)([a-z][a-z0-9-]*|!doctype)((?:\s+[^\s=>]+(?:="[^"]*"|='[^']*')?)*)\s*/?>`)
	pageAttr = regexp.MustCompile(`\s*([^\s=>]+)(?:="([^"]*)"|='([^']*)')?`)
)

// pageInert checks an HTML page as a browser would see its tags: no
// element that runs or loads anything (but the console's own script and
// style sheet), no event handler attribute, links only to the console
// itself or to http(s), and no "<" or ">" outside a tag.
func pageInert(t reporter, where, body string) {
	t.Helper()
	for _, m := range pageTag.FindAllStringSubmatch(body, -1) {
		tag, name, attrs := m[0], strings.ToLower(m[2]), m[3]
		values := map[string]string{}
		for _, a := range pageAttr.FindAllStringSubmatch(attrs, -1) {
			values[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3])
		}
		for key, v := range values {
			switch key {
			case "href", "src", "action", "formaction", "poster", "data", "srcdoc":
				if !pageURLSafe(v) {
					t.Errorf("%s: %s=%q in %q", where, key, v, tag)
				}
			case "style":
				if strings.Contains(strings.ToLower(v), "url(") || strings.Contains(strings.ToLower(v), "expression") {
					t.Errorf("%s: style %q", where, tag)
				}
			default:
				if strings.HasPrefix(key, "on") {
					t.Errorf("%s: event handler in %q", where, tag)
				}
			}
		}
		switch name {
		case "script":
			if m[1] == "" && !strings.HasPrefix(values["src"], "/static/") {
				t.Errorf("%s: inline or foreign script %q", where, tag)
			}
		case "img", "iframe", "object", "embed", "svg", "math", "base", "frame", "frameset", "applet", "video", "audio":
			t.Errorf("%s: <%s> element %q", where, name, tag)
		}
	}
	if rest := pageTag.ReplaceAllString(body, ""); strings.ContainsAny(rest, "<>") {
		i := strings.IndexAny(rest, "<>")
		t.Errorf("%s: raw < or > outside a tag near %q", where, rest[max(0, i-60):min(len(rest), i+60)])
	}
}

// pageURLSafe: a path on the console, a fragment, or an http(s) URL.
func pageURLSafe(v string) bool {
	if strings.HasPrefix(v, "#") || strings.HasPrefix(v, "?") || (strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") && !strings.HasPrefix(v, `/\`)) {
		return true
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func TestHostileTextIsInertOnEveryPage(t *testing.T) {
	f := newFixture(t)
	for i, s := range hostileCorpus {
		t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
			id := f.open(t, alertgate.Alert{
				Fingerprint: fmt.Sprintf("xss-%d", i),
				Labels:      map[string]string{"alertname": fmt.Sprintf("X%d %s", i, s), "service": "db", "evil": s},
				Annotations: map[string]string{"description": s, "runbook_url": s, "dashboard": "javascript:alert(1)"},
				Summary:     cut("summary "+s, alertgate.MaxSummaryLen),
				Service:     "db" + s,
				Links:       []alertgate.Link{{Href: s, Text: s}, {Href: "javascript:alert(1)", Text: s}, {Href: "https://ok.example/" + url.PathEscape(s), Text: s}},
				Details:     map[string]string{"d": s},
			})
			if resp, body := f.post(t, "/incidents/"+id+"/note", url.Values{"text": {"note " + s}}); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("note: %d %s", resp.StatusCode, body)
			}
			for _, path := range []string{
				"/incidents/" + id, "/incidents/" + id + "/explain", "/incidents",
				"/incidents?service=" + url.QueryEscape("db"+s), "/incidents?q=" + url.QueryEscape(s),
				"/incidents/" + url.PathEscape(s),
			} {
				resp, body := f.get(t, path)
				if resp.StatusCode >= 500 || (!strings.HasPrefix(path, "/incidents/"+url.PathEscape(s)) && resp.StatusCode != http.StatusOK) {
					t.Errorf("%s: %d", path, resp.StatusCode)
				}
				pageInert(t, path, body)
			}
			// A form that fails comes back with what was typed, and an
			// error that may quote it.
			resp, body := f.post(t, "/silences", url.Values{"matchers": {s}, "duration": {s}, "start": {s}, "comment": {s}})
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("bad silence: %d, want a 4xx", resp.StatusCode)
			}
			pageInert(t, "POST /silences", body)
			resp, body = f.post(t, "/incidents/"+id+"/"+url.PathEscape(s), url.Values{"text": {s}})
			if resp.StatusCode >= 500 {
				t.Errorf("bad action: %d", resp.StatusCode)
			}
			pageInert(t, "POST bad action", body)
		})
	}
	// And the payload is shown, as text.
	_, body := f.get(t, "/incidents")
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "&lt;svg onload=alert(1)&gt;") {
		t.Errorf("the escaped payloads are not on the incident list:\n%s", body)
	}
}

// reporter is what pageInert needs of a test, so that its own test can
// hand it a counter.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

type failureCounter struct{ n int }

func (*failureCounter) Helper()                 {}
func (c *failureCounter) Errorf(string, ...any) { c.n++ }

func inert(body string) bool {
	var c failureCounter
	pageInert(&c, "self-test", body)
	return c.n == 0
}

// TestPageInertCatchesHostileHTML: pageInert can fail.
func TestPageInertCatchesHostileHTML(t *testing.T) {
	for _, bad := range []string{
		`<p>x<script>alert(1)</script></p>`, `<div onclick="x">`, `<a href="javascript:alert(1)">`,
		`<a href="//evil.example/">`, `<img src=x onerror=alert(1)>`, `<p>a > b</p>`, `<form action="data:text/html,x">`,
		`<a href=" javascript:alert(1)">`, `<p style="background:url(x)">`,
	} {
		if inert(bad) {
			t.Errorf("pageInert passes %q", bad)
		}
	}
	if !inert(`<!DOCTYPE html><script src="/static/console.js" defer></script><a href="/incidents?a=1&amp;b=2">x &lt; y</a><a href="https://ok.example/">ok</a>`) {
		t.Error("pageInert fails a safe page")
	}
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
