package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestDoClassifiesAnswers(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		status     int
		header     string
		retry      bool
		retryAfter time.Duration
	}{
		{200, "", false, 0},
		{204, "", false, 0},
		{400, "", false, 0},
		{401, "", false, 0},
		{404, "", false, 0},
		{410, "", false, 0},
		{408, "", true, 0},
		{429, "7", true, 7 * time.Second},
		{429, "Tue, 01 Dec 2026 12:01:00 GMT", true, time.Minute},
		{429, "soon", true, 0},
		{500, "", true, 0},
		{503, "30", true, 30 * time.Second},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if c.header != "" {
				w.Header().Set("Retry-After", c.header)
			}
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte("invalid_token"))
		}))
		req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
		err := Do(context.Background(), srv.Client(), req, func() time.Time { return now })
		srv.Close()
		if c.status < 300 {
			if err != nil {
				t.Errorf("%d: %v, want success", c.status, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != c.status || e.Retry != c.retry || e.RetryAfter != c.retryAfter || e.Detail != "invalid_token" {
			t.Errorf("%d %q: %+v, want retry %v after %v with the body as detail", c.status, c.header, err, c.retry, c.retryAfter)
		}
		if retry, after := Failed(err); retry != c.retry || after != c.retryAfter {
			t.Errorf("%d: Failed says %v %v", c.status, retry, after)
		}
	}
}

func TestDoUnreachableIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	err := Do(context.Background(), http.DefaultClient, req, nil)
	if retry, _ := Failed(err); err == nil || !retry {
		t.Errorf("a closed port: %v, want a retryable error", err)
	}
}
