package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/incident"
)

// entryBy reports whether the incident's timeline has an entry of typ by
// alice (the logged-in person).
func entryBy(t *testing.T, f *fixture, id, typ string) bool {
	t.Helper()
	inc, err := f.svc.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range inc.Timeline {
		if e.Type == typ && e.Actor == "user:alice" {
			return true
		}
	}
	return false
}

func TestDeclareByHand(t *testing.T) {
	f := newFixture(t)
	if resp, _ := f.get(t, "/declare", true); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fdeclare" {
		t.Errorf("GET /declare without a login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := f.get(t, "/declare")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /declare: %d %s", resp.StatusCode, body)
	}
	mustContain(t, body, `action="/declare"`, `name="csrf_token" value="`+f.csrf+`"`, `<option value="bob">bob</option>`,
		`value="policy:ops"`, `value="rotation:ops-weekly"`, `<option value="critical" selected>`)

	form := url.Values{"title": {"Checkout fails"}, "severity": {"error"}, "service": {"payments"}, "commander": {"bob"},
		"page": {"rotation:ops-weekly"}, "request_id": {"d1"}}
	resp, body = f.post(t, "/declare", form)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "?done=declared") {
		t.Fatalf("POST /declare: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/incidents/"), "?done=declared")
	inc, err := f.svc.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !inc.Declared || inc.Title != "Checkout fails" || inc.Severity != alertgate.SeverityError || inc.Service != "payments" || inc.Roles["commander"] != "bob" {
		t.Errorf("declared %+v", inc)
	}
	paged := false
	for _, e := range inc.Timeline {
		// The escalation engine's entries say who asked in the message.
		paged = paged || (e.Type == alertgate.EventReassigned && strings.Contains(e.Message, "rotation ops-weekly by user:alice"))
	}
	if !entryBy(t, f, id, alertgate.EventDeclared) || !paged {
		t.Errorf("no declared entry by user:alice and reassigned to the rotation: %+v", inc.Timeline)
	}
	_, page := f.get(t, resp.Header.Get("Location"))
	mustContain(t, page, "Declared.", `id="role-commander">bob</strong>`)

	// The same form again (a double click) declares once.
	resp, _ = f.post(t, "/declare", form)
	if got := resp.Header.Get("Location"); got != "/incidents/"+id+"?done=declared" {
		t.Errorf("a resent declare went to %q, want the same incident %s", got, id)
	}

	for name, change := range map[string]url.Values{
		"no title":       {"title": {"  "}},
		"two lines":      {"title": {"a\nb"}},
		"bad severity":   {"severity": {"huge"}},
		"unknown user":   {"commander": {"mallory"}},
		"unknown policy": {"page": {"policy:nope"}},
		"unknown kind":   {"page": {"team:ops"}},
	} {
		bad := url.Values{"title": {"Typed <b>title</b>"}, "severity": {"warning"}, "request_id": {"bad-" + name}}
		for k, v := range change {
			bad[k] = v
		}
		resp, body := f.post(t, "/declare", bad)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="problem"`) {
			t.Errorf("%s: %d, want 422 with the problem shown", name, resp.StatusCode)
		}
		if _, ok := change["title"]; !ok && !strings.Contains(body, `value="Typed &lt;b&gt;title&lt;/b&gt;"`) {
			t.Errorf("%s: the typed title is not shown back (escaped)", name)
		}
	}
	if resp, _ := f.post(t, "/declare", url.Values{"title": {"x"}, "severity": {"info"}, "csrf_token": nil}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("declare without a CSRF token: %d, want 403", resp.StatusCode)
	}
}

func TestWorkFormsOnTheIncidentPage(t *testing.T) {
	f := newFixture(t)
	// The fixture's snapshot is the one the console reads: give it
	// stakeholder notifiers and a postmortem rule.
	f.snap.Config.StatusUpdates = config.StatusUpdates{Notifiers: []string{"console"}}
	f.snap.Config.Postmortems = config.Postmortems{Required: []config.PostmortemRule{{Severity: "critical", Due: 72 * time.Hour}}}
	id := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "DiskFull", "service": "db"}, Summary: "disk full"})

	resp, body := f.get(t, "/incidents/"+id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET incident: %d %s", resp.StatusCode, body)
	}
	mustContain(t, body, "Incident commander", `id="role-commander">nobody</strong>`, "Communications lead",
		"Goes to <strong>console</strong>", "postmortems.required[0] (severity critical)", "counted from the resolve",
		`id="impact-start" name="start" type="datetime-local" required value="2026-12-01T12:00"`,
		`href="/incidents/`+id+`/postmortem.md"`, "# Postmortem: disk full", "No follow-ups yet.")

	steps := []struct {
		path string
		form url.Values
		typ  string
	}{
		{"roles", url.Values{"role": {"commander"}, "user": {"bob"}}, alertgate.EventRoleAssigned},
		{"roles", url.Values{"role": {"communications"}, "user": {"alice"}}, alertgate.EventRoleAssigned},
		{"status_updates", url.Values{"text": {"Mitigated\r\nwatching"}}, alertgate.EventStatusUpdate},
		{"impact", url.Values{"start": {"2026-12-01T11:30"}, "end": {"2026-12-01T11:50"}}, alertgate.EventImpactSet},
		{"follow_ups", url.Values{"title": {"Alert on disk growth"}, "owner": {"bob"}, "due": {"2026-12-05"}, "link": {"https://jira.example/OPS-1"}}, alertgate.EventFollowUp},
		{"postmortem", url.Values{"status": {"draft"}, "link": {"https://wiki.example/pm/1"}}, alertgate.EventPostmortem},
	}
	for i, s := range steps {
		s.form.Set("request_id", "w"+string(rune('a'+i)))
		resp, body := f.post(t, "/incidents/"+id+"/"+s.path, s.form)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/incidents/"+id+"?done=") {
			t.Fatalf("%s: %d %s\n%s", s.path, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if !entryBy(t, f, id, s.typ) {
			t.Errorf("%s: no %s entry by user:alice", s.path, s.typ)
		}
		if _, page := f.get(t, resp.Header.Get("Location")); !strings.Contains(page, `id="done"`) {
			t.Errorf("%s: the page after the redirect says nothing done", s.path)
		}
	}
	inc, err := f.svc.GetWork(t.Context(), id, &f.snap.Config.Postmortems)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Roles["commander"] != "bob" || inc.Roles["communications"] != "alice" {
		t.Errorf("roles %v", inc.Roles)
	}
	if im := inc.Impact; im == nil || !im.Set || !im.Start.Equal(time.Date(2026, 12, 1, 11, 30, 0, 0, time.UTC)) || !im.End.Equal(time.Date(2026, 12, 1, 11, 50, 0, 0, time.UTC)) {
		t.Errorf("impact %+v", inc.Impact)
	}
	if len(inc.FollowUps) != 1 || inc.FollowUps[0].Owner != "bob" || inc.FollowUps[0].Due.Format(time.DateOnly) != "2026-12-05" {
		t.Fatalf("follow-ups %+v", inc.FollowUps)
	}
	if pm := inc.Postmortem; pm == nil || pm.Status != alertgate.PostmortemDraft || pm.Link != "https://wiki.example/pm/1" {
		t.Errorf("postmortem %+v", inc.Postmortem)
	}
	for _, e := range inc.Timeline {
		if e.Type == alertgate.EventStatusUpdate && e.Message != "Mitigated\nwatching" {
			t.Errorf("status update %q: a textarea's CRLF should be a newline", e.Message)
		}
	}
	fu := inc.FollowUps[0].ID
	_, body = f.get(t, "/incidents/"+id)
	mustContain(t, body, `id="role-commander">bob</strong>`, `<option value="bob" selected>bob</option>`, "(as set by hand)",
		`<td data-label="Action">Alert on disk growth</td>`, `href="https://jira.example/OPS-1"`, "2026-12-05",
		`action="/incidents/`+id+`/follow_ups/`+fu+`/done"`, `id="postmortem-link"`, "- [ ] Alert on disk growth")

	// Done before the resolve is refused on the page; after it, kept.
	resp, body = f.post(t, "/incidents/"+id+"/postmortem", url.Values{"status": {"done"}, "link": {"https://wiki.example/pm/1"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "resolve it before finishing its postmortem") {
		t.Errorf("postmortem done while triggered: %d, want 409 saying why", resp.StatusCode)
	}
	if resp, _ := f.post(t, "/incidents/"+id+"/follow_ups/"+fu+"/done", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("follow-up done: %d", resp.StatusCode)
	}
	if _, err := f.svc.Resolve(t.Context(), id, incident.By{Actor: "user:bob"}); err != nil {
		t.Fatal(err)
	}
	if resp, body := f.post(t, "/incidents/"+id+"/postmortem", url.Values{"status": {"done"}, "link": {"https://wiki.example/pm/1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("postmortem done after the resolve: %d\n%s", resp.StatusCode, body)
	}
	inc, _ = f.svc.GetWork(t.Context(), id, &f.snap.Config.Postmortems)
	if !inc.FollowUps[0].Done || inc.Postmortem.Status != alertgate.PostmortemDone || inc.Postmortem.Due.IsZero() {
		t.Errorf("after done: follow-up %+v, postmortem %+v", inc.FollowUps[0], inc.Postmortem)
	}
	_, body = f.get(t, "/incidents/"+id)
	mustContain(t, body, `<span class="badge ok">done</span>`, `id="postmortem-status">done on 2026-12-01 12:00:00 UTC`,
		`<option value="done" selected>done</option>`)

	// The skeleton as a download, under the session.
	resp, body = f.get(t, "/incidents/"+id+"/postmortem.md")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/markdown") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="postmortem-`+id+`.md"`) || !strings.HasPrefix(body, "# Postmortem: disk full") {
		t.Errorf("GET postmortem.md: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := f.get(t, "/incidents/"+id+"/postmortem.md", true); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("postmortem.md without a login: %d, want 303 to /login", resp.StatusCode)
	}
	if resp, _ := f.get(t, "/incidents/999999/postmortem.md"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("postmortem.md of an unknown incident: %d, want 404", resp.StatusCode)
	}
}

func TestWorkFormMistakes(t *testing.T) {
	f := newFixture(t)
	id := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "DiskFull", "service": "db"}})
	before, _ := f.svc.Get(t.Context(), id)
	for _, tc := range []struct {
		name, path string
		form       url.Values
		status     int
		says       string // in the problem, or typed and shown back
	}{
		{"unknown role", "roles", url.Values{"role": {"king"}, "user": {"bob"}}, 422, "is not a role"},
		{"unknown user", "roles", url.Values{"role": {"commander"}, "user": {"mallory"}}, 422, "no user &#34;mallory&#34;"},
		{"empty update", "status_updates", url.Values{"text": {" \r\n"}}, 422, "a status update needs text"},
		{"no impact start", "impact", url.Values{"start": {""}}, 422, "impact start: required"},
		{"bad impact start", "impact", url.Values{"start": {"tomorrow"}}, 422, `value="tomorrow"`},
		{"impact end before start", "impact", url.Values{"start": {"2026-12-01T11:30"}, "end": {"2026-12-01T11:00"}}, 422, "end: is before start"},
		{"no follow-up title", "follow_ups", url.Values{"title": {""}, "link": {"https://jira.example/OPS-9"}}, 422, `value="https://jira.example/OPS-9"`},
		{"javascript link", "follow_ups", url.Values{"title": {"kept title"}, "link": {"javascript:alert(1)"}}, 422, `value="kept title"`},
		{"bad due", "follow_ups", url.Values{"title": {"x"}, "due": {"soon"}}, 422, "is not a date such as 2026-01-02"},
		{"unknown owner", "follow_ups", url.Values{"title": {"x"}, "owner": {"mallory"}}, 422, "follow-up owner"},
		{"unknown follow-up", "follow_ups/fu-nope/done", url.Values{}, 404, "has no follow-up"},
		{"bad postmortem status", "postmortem", url.Values{"status": {"published"}}, 422, "is not one of draft, done"},
		{"ftp postmortem link", "postmortem", url.Values{"status": {"draft"}, "link": {"ftp://x.example/pm"}}, 422, "must be an absolute http"},
	} {
		resp, body := f.post(t, "/incidents/"+id+"/"+tc.path, tc.form)
		if resp.StatusCode != tc.status || !strings.Contains(body, `id="problem"`) || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d, want %d with %q on the page", tc.name, resp.StatusCode, tc.status, tc.says)
		}
	}
	if after, _ := f.svc.Get(t.Context(), id); len(after.Timeline) != len(before.Timeline) {
		t.Errorf("refused forms wrote to the timeline: %+v", after.Timeline[len(before.Timeline):])
	}
	if resp, _ := f.post(t, "/incidents/999999/roles", url.Values{"role": {"commander"}, "user": {"bob"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a role on an unknown incident: %d, want 404", resp.StatusCode)
	}
	for _, path := range []string{"roles", "status_updates", "impact", "postmortem", "follow_ups", "follow_ups/x/done"} {
		if resp, _ := f.post(t, "/incidents/"+id+"/"+path, url.Values{"role": {"commander"}, "text": {"x"}, "csrf_token": {"forged"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s with a forged CSRF token: %d, want 403", path, resp.StatusCode)
		}
	}
}

func TestWorkFormsEscape(t *testing.T) {
	f := newFixture(t)
	const xss = `<script>alert(1)</script>`
	id := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "X", "service": "db"}, Summary: "s " + xss})
	for path, form := range map[string]url.Values{
		"status_updates": {"text": {"update " + xss}},
		"follow_ups":     {"title": {"fu " + xss}, "link": {`https://x.example/"><script>alert(1)</script>`}},
	} {
		if resp, body := f.post(t, "/incidents/"+id+"/"+path, form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", path, resp.StatusCode, body)
		}
	}
	_, body := f.get(t, "/incidents/"+id)
	if strings.Contains(body, "<script>alert") {
		t.Errorf("unescaped script on the incident page")
	}
	mustContain(t, body, "fu &lt;script&gt;alert(1)&lt;/script&gt;", "update &lt;script&gt;alert(1)&lt;/script&gt;")
	resp, body := f.post(t, "/declare", url.Values{"title": {xss}, "severity": {"nope"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || strings.Contains(body, "<script>alert") {
		t.Errorf("declare page after a mistake: %d, unescaped: %v", resp.StatusCode, strings.Contains(body, "<script>alert"))
	}
}
