package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// The reports page in a real Chromium (docs/console.md, "Reports"): the
// vendored Chart.js runs under the console's CSP and draws both charts;
// acknowledging and resolving an incident moves MTTA and MTTR.

// chartDrawn is true once Chart.js owns the canvas and has painted at
// least one pixel of it.
const chartDrawn = `(() => {
  const c = document.getElementById(%q);
  if (!c || !window.Chart || !window.Chart.getChart(c) || c.width === 0 || c.height === 0) return false;
  const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
  return false;
})()`

func TestConsoleReportsInBrowser(t *testing.T) {
	ctx, g := startConsole(t)
	id := openIncident(t, g, "ReportsDiskFull", 1)

	runBrowser(t, ctx, "log in to the reports page",
		logInAt(g.URL+"/reports?range=24h", chromedp.WaitVisible(chromedp.ID("groups")))...)
	for _, canvas := range []string{"chart-tta", "chart-ttr"} {
		if !readBrowser(t, ctx, "wait for "+canvas+" to be drawn", chromedp.Poll[bool](fmt.Sprintf(chartDrawn, canvas), chromedp.WithPollingTimeout(browserWait/2))) {
			t.Errorf("%s: not drawn", canvas)
		}
	}
	cell := func(what, class string) string {
		return readBrowser(t, ctx, what, chromedp.Text(chromedp.CSS(`tr[data-group="all"] .`+class)))
	}
	if n := cell("read the count", "incidents"); n != "1" {
		t.Errorf("incidents in the last 24 hours: %q, want 1", n)
	}
	ttaBefore, ttrBefore := cell("read MTTA", "tta-median"), cell("read MTTR", "ttr-median")
	if ttaBefore != "–" || ttrBefore != "–" {
		t.Errorf("before anyone acted: MTTA %q, MTTR %q; want – (no samples)", ttaBefore, ttrBefore)
	}

	runBrowser(t, ctx, "acknowledge and resolve the incident",
		chromedp.Navigate(g.URL+"/incidents/"+id),
		chromedp.WaitVisible(chromedp.ID("acknowledge")),
		chromedp.Click(chromedp.ID("acknowledge")),
		chromedp.WaitVisible(chromedp.ID("done")),
		chromedp.Navigate(g.URL+"/incidents/"+id),
		chromedp.WaitVisible(chromedp.ID("resolve")),
		chromedp.Click(chromedp.ID("resolve")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	runBrowser(t, ctx, "reload the reports page",
		chromedp.Navigate(g.URL+"/reports?range=24h"),
		chromedp.WaitVisible(chromedp.ID("groups")),
	)
	ttaAfter, ttrAfter := cell("read MTTA again", "tta-median"), cell("read MTTR again", "ttr-median")
	if ttaAfter == ttaBefore || ttaAfter == "" || ttrAfter == ttrBefore || ttrAfter == "" {
		t.Errorf("after acknowledge and resolve: MTTA %q → %q, MTTR %q → %q; want both measured", ttaBefore, ttaAfter, ttrBefore, ttrAfter)
	}
	if !readBrowser(t, ctx, "the redrawn MTTR chart", chromedp.Poll[bool](fmt.Sprintf(chartDrawn, "chart-ttr"), chromedp.WithPollingTimeout(browserWait/2))) {
		t.Error("chart-ttr: not drawn after the reload")
	}
	if inc := g.incident(t, id); inc.Status != "resolved" {
		t.Errorf("the API says %s after the console's resolve", inc.Status)
	}

	// A phone: the tables fold into cards and the charts shrink; nothing
	// scrolls sideways (as TestConsoleInBrowser checks the other pages).
	runBrowser(t, ctx, "the reports page on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile),
		chromedp.Navigate(g.URL+"/reports?range=24h"), chromedp.WaitVisible(chromedp.ID("groups")))
	widths := readBrowser(t, ctx, "measure /reports", chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if len(widths) != 2 || widths[0] > widths[1] || widths[0] > 375 {
		t.Errorf("/reports on a 375px screen: [scrollWidth innerWidth] = %v: it scrolls sideways", widths)
	}
}
