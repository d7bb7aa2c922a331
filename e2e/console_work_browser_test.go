package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// People's work in the console, in a real Chromium (docs/console.md,
// "Running an incident"): declare an incident by hand, hand its
// commander role over, add a note and a follow-up, resolve it; each
// checked on the page and through the API.

// workIncident is the API's incident, as far as this test reads it.
type workIncident struct {
	ID        string            `json:"id"`
	Title     string            `json:"title"`
	Severity  string            `json:"severity"`
	Service   string            `json:"service"`
	Status    string            `json:"status"`
	Declared  bool              `json:"declared"`
	Roles     map[string]string `json:"roles"`
	FollowUps []struct {
		Title string `json:"title"`
		Owner string `json:"owner"`
		Link  string `json:"link"`
		Done  bool   `json:"done"`
	} `json:"follow_ups"`
	Timeline []struct {
		Type    string `json:"type"`
		Actor   string `json:"actor"`
		Message string `json:"message"`
	} `json:"timeline"`
}

func (inc workIncident) entry(typ, actor, message string) bool {
	for _, e := range inc.Timeline {
		if e.Type == typ && e.Actor == actor && (message == "" || e.Message == message) {
			return true
		}
	}
	return false
}

func TestConsoleWorkInBrowser(t *testing.T) {
	ctx, g := startConsole(t)

	const title = "Payments fail for <i>EU</i> customers"
	runBrowser(t, ctx, "log in on the way to the declare page",
		logInAt(g.URL+"/declare", chromedp.WaitVisible(chromedp.ID("d-title")))...)
	runBrowser(t, ctx, "declare an incident by hand",
		chromedp.SendKeys(chromedp.ID("d-title"), title),
		chromedp.SetValue(chromedp.ID("d-severity"), "critical"),
		chromedp.SendKeys(chromedp.ID("d-service"), "payments"),
		chromedp.SetValue(chromedp.ID("d-commander"), consoleUser),
		chromedp.Click(chromedp.ID("declare")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	loc, err := url.Parse(readBrowser(t, ctx, "read the location", chromedp.Location()))
	if err != nil || !strings.HasPrefix(loc.Path, "/incidents/") {
		t.Fatalf("after declaring, the browser is at %v (%v)", loc, err)
	}
	id := strings.TrimPrefix(loc.Path, "/incidents/")
	if got := readBrowser(t, ctx, "read the title", chromedp.Text(chromedp.CSS("h1"))); got != "#"+id+" "+title {
		t.Errorf("the declared incident's heading: %q", got)
	}
	if got := readBrowser(t, ctx, "read the commander", chromedp.Text(chromedp.ID("role-commander"))); got != consoleUser {
		t.Errorf("commander after declaring: %q, want %s", got, consoleUser)
	}
	inc := g.workIncident(t, id)
	if !inc.Declared || inc.Title != title || inc.Severity != "critical" || inc.Service != "payments" || inc.Roles["commander"] != consoleUser ||
		!inc.entry("declared", "user:alice", "") {
		t.Errorf("the API's declared incident: %+v", inc)
	}

	runBrowser(t, ctx, "hand the commander role to bob",
		// A fresh page without the declare's "done", so the wait below
		// waits for the hand-over's.
		chromedp.Navigate(g.URL+"/incidents/"+id),
		chromedp.WaitVisible(chromedp.ID("role-commander-user")),
		chromedp.SetValue(chromedp.ID("role-commander-user"), "bob"),
		chromedp.Click(chromedp.ID("hand-over-commander")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if got := readBrowser(t, ctx, "read the commander", chromedp.Text(chromedp.ID("role-commander"))); got != "bob" {
		t.Errorf("commander after the hand-over: %q, want bob", got)
	}

	const note = "failing over to the <b>second</b> PSP"
	runBrowser(t, ctx, "add a note",
		chromedp.Navigate(g.URL+"/incidents/"+id),
		chromedp.WaitVisible(chromedp.ID("note-text")),
		chromedp.SendKeys(chromedp.ID("note-text"), note),
		chromedp.Click(chromedp.ID("add-note")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	const followUp = "Alert on PSP error rates"
	runBrowser(t, ctx, "add a follow-up",
		chromedp.Navigate(g.URL+"/incidents/"+id),
		chromedp.WaitVisible(chromedp.ID("fu-title")),
		chromedp.SendKeys(chromedp.ID("fu-title"), followUp),
		chromedp.SetValue(chromedp.ID("fu-owner"), "bob"),
		chromedp.SetValue(chromedp.ID("fu-due"), "2026-12-20"),
		chromedp.SendKeys(chromedp.ID("fu-link"), "https://jira.example/PAY-7"),
		chromedp.Click(chromedp.ID("add-follow-up")),
		chromedp.WaitVisible(chromedp.ID("follow-ups")),
	)
	if got := readBrowser(t, ctx, "read the follow-ups", chromedp.Text(chromedp.ID("follow-ups"))); !strings.Contains(got, followUp) || !strings.Contains(got, "2026-12-20") {
		t.Errorf("the follow-ups list: %q", got)
	}
	runBrowser(t, ctx, "resolve it",
		chromedp.Navigate(g.URL+"/incidents/"+id),
		chromedp.WaitVisible(chromedp.ID("resolve")),
		chromedp.Click(chromedp.ID("resolve")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if got := readBrowser(t, ctx, "read the status", chromedp.Text(chromedp.ID("status"))); got != "resolved" {
		t.Errorf("status after resolve: %q", got)
	}
	timeline := readBrowser(t, ctx, "read the timeline", chromedp.Text(chromedp.ID("timeline")))
	for _, want := range []string{"declared by user:alice", "role_assigned by user:alice", "role commander: bob", note, "follow_up by user:alice", "resolved by user:alice"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, timeline)
		}
	}

	inc = g.workIncident(t, id)
	if inc.Status != "resolved" || inc.Roles["commander"] != "bob" {
		t.Errorf("the API after the console's work: status %s, roles %v", inc.Status, inc.Roles)
	}
	for _, e := range []struct{ typ, message string }{{"role_assigned", "commander: bob"}, {"note", note}, {"resolved", ""}} {
		if !inc.entry(e.typ, "user:alice", e.message) {
			t.Errorf("the API's timeline has no %s %q by user:alice: %+v", e.typ, e.message, inc.Timeline)
		}
	}
	if len(inc.FollowUps) != 1 || inc.FollowUps[0].Title != followUp || inc.FollowUps[0].Owner != "bob" || inc.FollowUps[0].Link != "https://jira.example/PAY-7" {
		t.Errorf("the API's follow-ups: %+v", inc.FollowUps)
	}

	// A phone: the new page and sections fit 375 pixels.
	runBrowser(t, ctx, "a phone-sized screen", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	for _, page := range []string{"/declare", "/incidents/" + id} {
		runBrowser(t, ctx, "open "+page+" on the phone", chromedp.Navigate(g.URL+page), chromedp.WaitVisible(chromedp.CSS("h1")))
		widths := readBrowser(t, ctx, "measure "+page, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		if len(widths) != 2 || widths[0] > widths[1] || widths[0] > 375 {
			t.Errorf("%s on a 375px screen: [scrollWidth innerWidth] = %v: it scrolls sideways", page, widths)
		}
	}
}

// workIncident fetches one incident through the API.
func (g *gate) workIncident(t *testing.T, id string) workIncident {
	t.Helper()
	status, _, body := g.do(t, http.MethodGet, "/api/v1/incidents/"+id, jsonHeader(apiToken), nil)
	if status != http.StatusOK {
		t.Fatalf("GET incident %s: %d %s", id, status, body)
	}
	var inc workIncident
	decodeJSON(t, body, &inc)
	return inc
}
