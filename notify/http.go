package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a failed delivery as a channel saw it: what the target
// answered, and whether trying again may help.
type Error struct {
	// Status is the HTTP status (or an SMTP reply code); 0 when the
	// target did not answer (a timeout, a refused connection).
	Status int
	// Retry reports whether a later attempt may succeed: timeouts,
	// connection failures, 5xx, 429. A permanent failure (400, 401, 403,
	// 404, 410, …) is not retried.
	Retry bool
	// RetryAfter is how long the target asked to be left alone (429 or
	// 503 with Retry-After); 0 when it did not say.
	RetryAfter time.Duration
	// Detail is what the target said, cut short.
	Detail string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "status %d", e.Status)
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %v)", e.RetryAfter)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Failed reads a notifier's error: whether to retry, and how long the
// target asked to wait. Any error that is not an *Error is retryable.
func Failed(err error) (retry bool, after time.Duration) {
	var e *Error
	if errors.As(err, &e) {
		return e.Retry, e.RetryAfter
	}
	return err != nil, 0
}

// maxDetail bounds how much of a target's answer an error keeps.
const maxDetail = 512

// Do sends req with client and reads the answer: nil for 2xx, an *Error
// for everything else. Channels over HTTP build their request and call
// Do; it never follows the body of a 2xx further than draining it.
func Do(ctx context.Context, client *http.Client, req *http.Request, now func() time.Time) error {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return &Error{Retry: true, Err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxDetail))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &Error{
		Status:     resp.StatusCode,
		Retry:      retryable(resp.StatusCode),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now),
		Detail:     strings.TrimSpace(string(bytes.ToValidUTF8(body, nil))),
	}
}

// retryable: 408 (timeout), 425, 429 (throttled) and every 5xx may pass
// later; any other 4xx will not (a wrong URL, a revoked token, a bad
// request), and retrying it would only hammer the target.
func retryable(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return true
	case status >= 500:
		return true
	}
	return false
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now func() time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if now == nil {
			now = time.Now
		}
		if d := t.Sub(now()); d > 0 {
			return d
		}
	}
	return 0
}
