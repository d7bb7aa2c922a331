package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serve --dev prints how to log in, and the dev user logs in with it.
func TestServeDevLogin(t *testing.T) {
	base, lines := startServeOutput(t, "--dev")
	deadline := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case l := <-lines:
			found = strings.Contains(l, `/login as user "dev", password "dev"`)
		case <-deadline:
			t.Fatal("the banner does not say how to log in")
		}
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="login_token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("login page: %d %s", resp.StatusCode, page)
	}
	resp, err = c.PostForm(base+"/login", url.Values{"user": {"dev"}, "password": {"dev"}, "login_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dev login: %d, want 303", resp.StatusCode)
	}
	resp, err = c.Get(base + "/api/v1/incidents")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the API with the dev session: %d, want 200", resp.StatusCode)
	}
}
