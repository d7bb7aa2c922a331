package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/alertgate/alertgate/internal/redistest"
)

// The web console in a real Chromium (docs/console.md): log in, find
// the incident a webhook opened, acknowledge it, add a note, and on a
// phone-sized screen scroll nowhere sideways.

const (
	consoleUser     = "alice"
	consolePassword = "correct horse battery staple"
)

func consoleConfig(t *testing.T, prefix string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(consolePassword), 10) // the lowest cost config accepts
	if err != nil {
		t.Fatal(err)
	}
	return gateConfig(prefix, testRedisURL()) + fmt.Sprintf(`users:
  - {id: %s, password_hash: %q, contacts: [{notifier: console, address: alice}]}
  - {id: bob, contacts: [{notifier: console, address: bob}]}
teams:
  - {id: ops, members: [alice, bob]}
rotations:
  - id: primary
    time_zone: Europe/Berlin
    layers:
      - {name: weekly, participants: [alice, bob], start: "2026-01-05T09:00", shift: 1w}
routes:
  - name: paging
    group_by: [alertname]
    team: ops
`, consoleUser, hash)
}

// startConsole starts a browser and alertgate with the console's config.
func startConsole(t *testing.T) (context.Context, *gate) {
	t.Helper()
	needBinary(t)
	ctx := browser(t)
	_, prefix := redistest.New(t)
	path := filepath.Join(t.TempDir(), "alertgate.yaml")
	writeFile(t, path, consoleConfig(t, prefix))
	return ctx, startGate(t, gateOptions{prefix: prefix, configPath: path})
}

// openIncident posts an Alertmanager webhook of n alerts named name and
// returns the one incident it opened.
func openIncident(t *testing.T, g *gate, name string, n int) string {
	t.Helper()
	status, body := g.postHook(t, "am", amToken, amWebhook(t, name, firingAlerts(name, n, time.Now())))
	var ing ingestResponse
	if status != http.StatusOK || json.Unmarshal(body, &ing) != nil || len(ing.Incidents) != 1 {
		t.Fatalf("POST /hooks/am: %d %s", status, body)
	}
	return ing.Incidents[0]
}

// logInAt opens url, which sends the browser to the login page, logs in
// as consoleUser, and waits for sel on the page it comes back to.
func logInAt(url string, sel chromedp.Action[chromedp.Void]) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("user"), consoleUser),
		chromedp.SendKeys(chromedp.ID("password"), consolePassword),
		chromedp.Submit(chromedp.ID("password")),
		sel,
	}
}

func TestConsoleInBrowser(t *testing.T) {
	ctx, g := startConsole(t)
	id := openIncident(t, g, "ConsoleDiskFull", 2)

	runBrowser(t, ctx, "open the console: the login page",
		logInAt(g.URL+"/", chromedp.WaitVisible(chromedp.CSS(`a[href="/incidents/`+id+`"]`)))...)
	list := readBrowser(t, ctx, "read the list", chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"ConsoleDiskFull", "triggered", "ops", "2 firing of 2"} {
		if !strings.Contains(list, want) {
			t.Errorf("the incident list lacks %q:\n%s", want, list)
		}
	}

	runBrowser(t, ctx, "open the incident and acknowledge it",
		chromedp.Click(chromedp.CSS(`a[href="/incidents/`+id+`"]`)),
		chromedp.WaitVisible(chromedp.ID("acknowledge")),
		chromedp.Click(chromedp.ID("acknowledge")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if got := readBrowser(t, ctx, "read the status", chromedp.Text(chromedp.ID("status"))); got != "acknowledged" {
		t.Errorf("status after acknowledge: %q", got)
	}
	const note = "restarted the <b>disk</b> daemon"
	runBrowser(t, ctx, "add a note",
		// A fresh page without the acknowledge's "done", so the wait
		// below waits for the note's.
		chromedp.Navigate(g.URL+"/incidents/"+id),
		chromedp.WaitVisible(chromedp.ID("note-text")),
		chromedp.SendKeys(chromedp.ID("note-text"), note),
		chromedp.Click(chromedp.ID("add-note")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	timeline := readBrowser(t, ctx, "read the timeline", chromedp.Text(chromedp.ID("timeline")))
	for _, want := range []string{"note by user:alice", note, "acknowledged by user:alice"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, timeline)
		}
	}
	inc := g.linkIncident(t, id)
	if inc.Status != "acknowledged" {
		t.Errorf("the API says %s after the console's acknowledge", inc.Status)
	}
	noted := false
	for _, e := range inc.Timeline {
		noted = noted || (e.Type == "note" && e.Actor == "user:alice" && e.Message == note)
	}
	if !noted {
		t.Errorf("the API's timeline has no note by user:alice: %+v", inc.Timeline)
	}

	// Live updates: the open list shows an incident opened after it
	// loaded, without a reload (static/live.js, every 15 s; the CSP lets
	// it run and fetch).
	runBrowser(t, ctx, "open the list", chromedp.Navigate(g.URL+"/incidents"), chromedp.WaitVisible(chromedp.CSS(`a[href="/incidents/`+id+`"]`)))
	later := openIncident(t, g, "ConsoleLater", 1)
	runBrowser(t, ctx, "the new incident appears by itself", chromedp.WaitVisible(chromedp.CSS(`a[href="/incidents/`+later+`"]`)))
	if loc := readBrowser(t, ctx, "read the location", chromedp.Location()); loc != g.URL+"/incidents" {
		t.Errorf("the page navigated to %s", loc)
	}

	// A phone: 375×812, nothing wider than the screen on any page.
	runBrowser(t, ctx, "a phone-sized screen", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	for _, page := range []string{"/incidents", "/incidents/" + id, "/incidents/" + id + "/explain", "/oncall", "/silences"} {
		runBrowser(t, ctx, "open "+page+" on the phone", chromedp.Navigate(g.URL+page), chromedp.WaitVisible(chromedp.CSS("h1")))
		// A mobile browser zooms out to fit a page that is too wide, and
		// innerWidth grows with it: the page must fit the 375 pixels too.
		widths := readBrowser(t, ctx, "measure "+page, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		if len(widths) != 2 || widths[0] > widths[1] || widths[0] > 375 {
			t.Errorf("%s on a 375px screen: [scrollWidth innerWidth] = %v: it scrolls sideways", page, widths)
		}
	}
}
