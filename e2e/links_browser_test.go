package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/alertgate/alertgate/actionlink"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/notify"
)

// The links in pages, driven the way people (and robots) use them: a real
// Chromium opens the acknowledge button of a Slack message and presses it;
// GET, HEAD and a script-running browser visit of every link of an e-mail
// change nothing. docs/links.md.

const (
	linkKeyID     = "e2e-2026"
	linkKeySecret = "e2e-link-key-0123456789abcdef0123456789abcdef"
	browserWait   = 60 * time.Second
)

// slackDouble is a loopback Slack incoming webhook that records what it
// is sent.
type slackDouble struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []slackMessage
}

type slackMessage struct {
	Blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			URL      string `json:"url"`
		} `json:"elements"`
	} `json:"blocks"`
}

func newSlackDouble(t *testing.T) *slackDouble {
	t.Helper()
	d := &slackDouble{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m slackMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("slack double: not JSON: %s", body)
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		d.mu.Lock()
		d.msgs = append(d.msgs, m)
		d.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(d.srv.Close)
	return d
}

// button returns the URL of the first recorded message's button.
func (d *slackDouble) button(actionID string) (string, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.msgs {
		for _, b := range m.Blocks {
			for _, e := range b.Elements {
				if e.Type == "button" && e.ActionID == actionID {
					return e.URL, len(d.msgs)
				}
			}
		}
	}
	return "", len(d.msgs)
}

// linkIncident is the part of an incident these tests judge.
type linkIncident struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Escalation *struct {
		Step     int `json:"step"`
		NextStep int `json:"next_step"`
	} `json:"escalation"`
	Timeline []struct {
		Type    string `json:"type"`
		Actor   string `json:"actor"`
		Message string `json:"message"`
	} `json:"timeline"`
}

func (g *gate) linkIncident(t *testing.T, id string) linkIncident {
	t.Helper()
	status, _, body := g.do(t, http.MethodGet, "/api/v1/incidents/"+id, jsonHeader(apiToken), nil)
	if status != http.StatusOK {
		t.Fatalf("GET incident %s: %d %s", id, status, body)
	}
	var inc linkIncident
	decodeJSON(t, body, &inc)
	return inc
}

func (inc linkIncident) has(typ string) bool {
	for _, e := range inc.Timeline {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// linksConfig: alertgate with a Slack notifier at the double, alice
// reached through it, a policy that pages her at once and someone else
// only after ten minutes, and link keys. public_url is added once the
// port is known (startLinkGate).
func linksConfig(prefix, slackURL, publicURL string) string {
	c := gateConfig(prefix, testRedisURL()) + fmt.Sprintf(`escalation:
  poll_interval: 50ms
delivery:
  poll_interval: 50ms
notifiers:
  - id: ops-slack
    type: slack
    url: %q
links:
  keys:
    - {id: %s, secret: %q}
  ttl: 1h
users:
  - {id: alice, contacts: [{notifier: ops-slack}]}
  - {id: bob, contacts: [{notifier: console, address: bob}]}
escalation_policies:
  - id: links
    steps:
      - targets: [{user: alice}]
        delay: 10m
      - targets: [{user: bob}]
        delay: 10m
routes:
  - name: paging
    group_by: [alertname]
    escalation_policy: links
    group_wait: 0s
`, slackURL+"/services/T0/B0/e2e", linkKeyID, linkKeySecret)
	if publicURL != "" {
		c += "public_url: " + publicURL + "\n"
	}
	return c
}

// startLinkGate starts alertgate and then gives it its own URL as
// public_url (the port is known only once it listens) with a reload.
func startLinkGate(t *testing.T, slack *slackDouble) *gate {
	t.Helper()
	_, prefix := redistest.New(t)
	path := filepath.Join(t.TempDir(), "alertgate.yaml")
	writeFile(t, path, linksConfig(prefix, slack.srv.URL, ""))
	g := startGate(t, gateOptions{prefix: prefix, configPath: path})
	writeFile(t, path, linksConfig(prefix, slack.srv.URL, g.URL))
	if err := g.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// Without a public URL links are off (404); with it a bad token is a
	// 400 page.
	eventually(t, 10*time.Second, "links on after the reload", func() (bool, string) {
		status, _, body, err := g.try(http.MethodGet, "/a/probe", nil, nil)
		return err == nil && status == http.StatusBadRequest, fmt.Sprintf("%d %v %s", status, err, truncate(body, 200))
	})
	return g
}

// openLinkIncident fires one alert and returns its incident, once its
// page reached the Slack double and was recorded delivered.
func openLinkIncident(t *testing.T, g *gate, slack *slackDouble, alertname string) (id, ackURL string) {
	t.Helper()
	status, body := g.postHook(t, "am", amToken, amWebhook(t, alertname, firingAlerts(alertname, 1, time.Now())))
	var ing ingestResponse
	if status != http.StatusOK || json.Unmarshal(body, &ing) != nil || len(ing.Incidents) != 1 {
		t.Fatalf("POST /hooks/am: %d %s", status, body)
	}
	id = ing.Incidents[0]
	eventually(t, 30*time.Second, "the page in Slack with an Acknowledge button", func() (bool, string) {
		ackURL, n := slack.button("acknowledge")
		return ackURL != "", fmt.Sprintf("%d messages", n)
	})
	ackURL, _ = slack.button("acknowledge")
	eventually(t, 30*time.Second, "the page recorded delivered", func() (bool, string) {
		inc := g.linkIncident(t, id)
		return inc.has("page_delivered"), fmt.Sprintf("%+v", inc.Timeline)
	})
	return id, ackURL
}

// browser starts Debian's chromium through chromedp. Without chromium the
// test is skipped, except under CI, where it fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (apt-get install chromium); CI must run the browser tests")
		}
		t.Skip("chromium is not installed (apt-get install chromium): skipping the browser test")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], // headless among them
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // containers run as root, where Chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// Start the browser now, on the context without a deadline (a first
	// run's deadline would end the browser), so its start-up counts
	// against no step's wait.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// runBrowser runs actions with a deadline; on failure it keeps a
// screenshot of the page under t.TempDir() and says where.
func runBrowser(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(stepCtx, steps...); err != nil {
		browserFailed(t, ctx, what, err)
	}
}

// readBrowser runs one action that returns a value, as runBrowser does.
func readBrowser[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, browserWait)
	defer cancel()
	v, err := chromedp.Run(stepCtx, a)
	if err != nil {
		browserFailed(t, ctx, what, err)
	}
	return v
}

func browserFailed(t *testing.T, ctx context.Context, what string, err error) {
	t.Helper()
	shotCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if png, shotErr := chromedp.Run(shotCtx, chromedp.FullScreenshot(90)); shotErr == nil {
		name := filepath.Join(t.TempDir(), regexp.MustCompile(`\W+`).ReplaceAllString(what, "-")+".png")
		if os.WriteFile(name, png, 0o600) == nil {
			t.Logf("screenshot of the failed step: %s", name)
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// TestLinkAcknowledgeInBrowser: the Slack message's Acknowledge button,
// opened in Chromium, shows the confirmation page; its button
// acknowledges the incident and stops the escalation.
func TestLinkAcknowledgeInBrowser(t *testing.T) {
	needBinary(t)
	ctx := browser(t)
	slack := newSlackDouble(t)
	g := startLinkGate(t, slack)
	id, ackURL := openLinkIncident(t, g, slack, "LinkBrowserAck")
	if !strings.HasPrefix(ackURL, g.URL+"/a/") {
		t.Fatalf("acknowledge URL %q is not under the public URL %s", ackURL, g.URL)
	}
	before := g.linkIncident(t, id)
	if before.Status != "triggered" || before.Escalation == nil || before.Escalation.NextStep != 2 {
		t.Fatalf("before: %+v, want triggered with step 2 next", before)
	}

	runBrowser(t, ctx, "open the confirmation page",
		chromedp.Navigate(ackURL),
		chromedp.WaitVisible(chromedp.ID("acknowledge")),
	)
	heading := readBrowser(t, ctx, "read the heading", chromedp.Text(chromedp.CSS("h1")))
	page := readBrowser(t, ctx, "read the page", chromedp.Text(chromedp.CSS("main")))
	if want := "Acknowledge incident #" + id + "?"; heading != want {
		t.Errorf("confirmation heading %q, want %q", heading, want)
	}
	for _, want := range []string{"LinkBrowserAck on i0", "triggered", "Acknowledge as alice"} {
		if !strings.Contains(page, want) {
			t.Errorf("confirmation page lacks %q:\n%s", want, page)
		}
	}
	if inc := g.linkIncident(t, id); inc.Status != "triggered" {
		t.Fatalf("opening the confirmation page changed the incident to %s", inc.Status)
	}

	runBrowser(t, ctx, "press acknowledge",
		chromedp.Click(chromedp.ID("acknowledge")),
		chromedp.WaitVisible(chromedp.CSS("main .card.ok")),
	)
	heading = readBrowser(t, ctx, "read the result heading", chromedp.Text(chromedp.CSS("h1")))
	page = readBrowser(t, ctx, "read the result page", chromedp.Text(chromedp.CSS("main")))
	if want := "Acknowledged: incident #" + id; heading != want {
		t.Errorf("result heading %q, want %q", heading, want)
	}
	if !strings.Contains(page, "acknowledged by alice via link") || !strings.Contains(page, "Escalation stopped") {
		t.Errorf("result page:\n%s", page)
	}

	inc := g.linkIncident(t, id)
	if inc.Status != "acknowledged" {
		t.Fatalf("after the button the incident is %s", inc.Status)
	}
	if inc.Escalation == nil || inc.Escalation.NextStep != 0 {
		t.Errorf("escalation after the acknowledgement %+v, want next_step 0", inc.Escalation)
	}
	found := false
	for _, e := range inc.Timeline {
		if e.Type == "acknowledged" && e.Actor == "alice via link" && e.Message == "acknowledged by alice via link" {
			found = true
		}
	}
	if !found {
		t.Errorf("timeline has no \"acknowledged by alice via link\": %+v", inc.Timeline)
	}

	// The same link again: used.
	runBrowser(t, ctx, "open the used link", chromedp.Navigate(ackURL), chromedp.WaitVisible(chromedp.CSS("h1")))
	heading = readBrowser(t, ctx, "read the used link's heading", chromedp.Text(chromedp.CSS("h1")))
	if heading != "This link has been used already" {
		t.Errorf("a used link's heading %q", heading)
	}
}

var hrefs = regexp.MustCompile(`href="([^"]+)"`)

// TestEmailLinksChangeNothing: every link of a rendered page e-mail, as a
// mail scanner or a preview fetches it (GET, HEAD, a browser that runs the
// page's scripts without clicking), leaves the incident as it was.
func TestEmailLinksChangeNothing(t *testing.T) {
	needBinary(t)
	ctx := browser(t)
	slack := newSlackDouble(t)
	g := startLinkGate(t, slack)
	id, _ := openLinkIncident(t, g, slack, "LinkEmailPreview")
	before := g.linkIncident(t, id)

	// The links a page e-mail to alice carries, signed as alertgate signs
	// them (the test config's key), rendered by the e-mail channel.
	signer, err := actionlink.NewSigner([]actionlink.Key{{ID: linkKeyID, Secret: []byte(linkKeySecret)}}, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	page := notify.Page{Key: id + ".1.0.1.alice", Incident: id, Title: "LinkEmailPreview on i0", Severity: "critical",
		AlertCount: 1, Since: time.Now(), Policy: "links", Step: 1, Epoch: 1, User: "alice", Notifier: "mail",
		Address: "alice@example.com", At: time.Now(), Kind: notify.KindPage}
	if page.Links, err = signer.PageLinks(g.URL, page); err != nil {
		t.Fatal(err)
	}
	_, html, err := notify.EmailBodies(page)
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, m := range hrefs.FindAllStringSubmatch(html, -1) {
		if u := strings.ReplaceAll(m[1], "&amp;", "&"); strings.HasPrefix(u, g.URL+"/a/") {
			links = append(links, u)
		}
	}
	if len(links) < 3 {
		t.Fatalf("the e-mail has %d links to alertgate, want acknowledge, resolve and open:\n%s", len(links), html)
	}

	for _, link := range links {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			for _, ua := range []string{"Mozilla/5.0 (compatible; Microsoft SafeLinks)", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", ""} {
				req, _ := http.NewRequestWithContext(t.Context(), method, link, nil)
				req.Header.Set("User-Agent", ua)
				resp, err := g.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s %s (UA %q): %d", method, link, ua, resp.StatusCode)
				}
			}
		}
		// A preview renders the page, runs its scripts, and clicks nothing.
		runBrowser(t, ctx, "preview "+link, chromedp.Navigate(link), chromedp.WaitReady(chromedp.CSS("body")))
		state := readBrowser(t, ctx, "read the preview's state", chromedp.Evaluate[string](`document.readyState`))
		if state != "complete" {
			t.Errorf("preview of %s: document %s", link, state)
		}
	}

	after := g.linkIncident(t, id)
	if after.Status != before.Status || len(after.Timeline) != len(before.Timeline) ||
		after.Escalation == nil || before.Escalation == nil || after.Escalation.NextStep != before.Escalation.NextStep {
		t.Fatalf("fetching the e-mail's links changed the incident:\nbefore %+v\nafter  %+v", before, after)
	}
	// And the links still work: none was used up by the fetches.
	runBrowser(t, ctx, "act after the previews",
		chromedp.Navigate(links[0]),
		chromedp.WaitVisible(chromedp.CSS("button")),
		chromedp.Click(chromedp.CSS("button")),
		chromedp.WaitVisible(chromedp.CSS("main .card.ok")),
	)
	heading := readBrowser(t, ctx, "read the result heading", chromedp.Text(chromedp.CSS("h1")))
	if !strings.HasPrefix(heading, "Acknowledged") && !strings.HasPrefix(heading, "Resolved") {
		t.Errorf("pressing the first link's button: %q", heading)
	}
}
