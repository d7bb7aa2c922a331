package lifecycle_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/testlog"
)

// A shutdown lets the request in flight finish, then Run returns nil.
func TestHTTPServerFinishesInFlightRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})}
	sup := lifecycle.New(testlog.New(t))
	sup.Add(lifecycle.HTTPServer("http", srv, ln, 10*time.Second))
	ctx, cancel := context.WithCancel(t.Context())
	done := runAsync(ctx, sup)

	type answer struct {
		body string
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answers <- answer{string(b), err}
	}()
	wait(t, entered, "the request")
	cancel()
	close(release)
	select {
	case a := <-answers:
		if a.err != nil || a.body != "done" {
			t.Fatalf("the request in flight got %q, %v", a.body, a.err)
		}
	case <-time.After(waitFor):
		t.Fatal("no answer")
	}
	if err := result(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// A server that cannot serve takes the process down.
func TestHTTPServerThatCannotServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	sup := lifecycle.New(testlog.New(t, testlog.ExpectError("component exited; stopping everything")))
	sup.Add(lifecycle.HTTPServer("http", &http.Server{}, ln, time.Second))
	err = result(t, runAsync(t.Context(), sup))
	if err == nil || !strings.Contains(err.Error(), "http exited") {
		t.Fatalf("Run returned %v", err)
	}
}
