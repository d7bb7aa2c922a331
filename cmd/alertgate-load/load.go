package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// loadConfig is one run of the generator.
type loadConfig struct {
	hookURL     string
	token       string
	concurrency int
	requests    int64         // 0: no limit
	duration    time.Duration // 0: no limit
	rate        float64       // max requests/s over the run; 0: no limit
	bodies      *payloads
	prebuilt    [][]byte // bodies of requests 0..len-1; nil: build as we go
	client      *http.Client
}

// maxSamples bounds the error messages kept to show the user.
const maxSamples = 5

// outcome is what the workers measured.
type outcome struct {
	byStatus         map[int]int64
	transportErrors  int64
	canceled         int64 // cut short by the caller's context (Ctrl-C)
	okRequests       int64
	okAlerts         int64 // alerts in 2xx requests
	serverAlerts     int64 // sum of "alerts" in 2xx response bodies
	serverDuplicates int64 // sum of "duplicates"
	parsedBodies     int64 // 2xx bodies that had those fields
	durations        []time.Duration
	samples          []string
	wall             time.Duration
}

func (o *outcome) sent() int64 {
	n := o.transportErrors + o.canceled
	for _, c := range o.byStatus {
		n += c
	}
	return n
}

// failed counts requests that got no 2xx answer, cancellations aside.
func (o *outcome) failed() int64 {
	return o.sent() - o.canceled - o.okRequests
}

func (o *outcome) merge(w *outcome) {
	for s, c := range w.byStatus {
		o.byStatus[s] += c
	}
	o.transportErrors += w.transportErrors
	o.canceled += w.canceled
	o.okRequests += w.okRequests
	o.okAlerts += w.okAlerts
	o.serverAlerts += w.serverAlerts
	o.serverDuplicates += w.serverDuplicates
	o.parsedBodies += w.parsedBodies
	o.durations = append(o.durations, w.durations...)
	for _, s := range w.samples {
		if len(o.samples) < maxSamples {
			o.samples = append(o.samples, s)
		}
	}
}

func (o *outcome) sample(format string, args ...any) {
	if len(o.samples) < maxSamples {
		o.samples = append(o.samples, fmt.Sprintf(format, args...))
	}
}

// ingestReply is the part of a 200 answer the generator tallies.
type ingestReply struct {
	Alerts     *int64 `json:"alerts"`
	Duplicates int64  `json:"duplicates"`
}

// newClient returns the one client of a run: keep-alive connections, one
// idle connection kept per sender, no proxy (the target is loopback).
func newClient(concurrency int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// generate sends the requests and measures them. It stops when the request
// count is reached, when the duration is up (requests in flight finish), or
// when ctx ends (requests in flight are cancelled and counted as such).
func generate(ctx context.Context, cfg loadConfig) *outcome {
	var next atomic.Int64
	start := time.Now()
	var deadline time.Time
	if cfg.duration > 0 {
		deadline = start.Add(cfg.duration)
	}
	results := make([]*outcome, cfg.concurrency)
	var wg sync.WaitGroup
	for w := range cfg.concurrency {
		results[w] = &outcome{byStatus: map[int]int64{}}
		if cfg.requests > 0 {
			results[w].durations = make([]time.Duration, 0, cfg.requests/int64(cfg.concurrency)+1)
		}
		wg.Go(func() { worker(ctx, cfg, &next, start, deadline, results[w]) })
	}
	wg.Wait()
	total := &outcome{byStatus: map[int]int64{}, wall: time.Since(start)}
	for _, r := range results {
		total.merge(r)
	}
	return total
}

func worker(ctx context.Context, cfg loadConfig, next *atomic.Int64, start, deadline time.Time, out *outcome) {
	var reply bytes.Buffer
	batch := int64(cfg.bodies.spec.Batch)
	for ctx.Err() == nil {
		k := next.Add(1) - 1
		if cfg.requests > 0 && k >= cfg.requests {
			return
		}
		if cfg.rate > 0 {
			// Request k is due k/rate seconds into the run.
			at := start.Add(time.Duration(float64(k) / cfg.rate * float64(time.Second)))
			if !deadline.IsZero() && !at.Before(deadline) {
				return
			}
			if !sleepUntil(ctx, at) {
				return
			}
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return
		}
		var body []byte
		if k < int64(len(cfg.prebuilt)) {
			body = cfg.prebuilt[k]
		} else {
			// A fresh buffer: the transport may still read a request body
			// after Do returns, so it cannot be reused safely.
			body = cfg.bodies.appendBody(make([]byte, 0, 512*batch+1024), k)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.hookURL, bytes.NewReader(body))
		if err != nil {
			out.transportErrors++
			out.sample("request %d: %v", k, err)
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "alertgate-load")
		req.Header.Set("Authorization", "Bearer "+cfg.token)

		reply.Reset()
		t0 := time.Now()
		resp, err := cfg.client.Do(req)
		if err == nil {
			_, err = reply.ReadFrom(resp.Body)
			if cerr := resp.Body.Close(); err == nil {
				err = cerr
			}
		}
		elapsed := time.Since(t0)

		switch {
		case err != nil && ctx.Err() != nil:
			out.canceled++
			return
		case err != nil:
			out.transportErrors++
			out.sample("request %d: %v", k, err)
		case resp.StatusCode >= 200 && resp.StatusCode <= 299:
			out.byStatus[resp.StatusCode]++
			out.okRequests++
			out.okAlerts += batch
			out.durations = append(out.durations, elapsed)
			var r ingestReply
			if json.Unmarshal(reply.Bytes(), &r) == nil && r.Alerts != nil {
				out.parsedBodies++
				out.serverAlerts += *r.Alerts
				out.serverDuplicates += r.Duplicates
			}
		default:
			out.byStatus[resp.StatusCode]++
			msg := bytes.TrimSpace(reply.Bytes())
			if len(msg) > 300 {
				msg = append(msg[:300:300], "…"...)
			}
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				out.sample("request %d: %s (Retry-After %s): %s", k, resp.Status, ra, msg)
			} else {
				out.sample("request %d: %s: %s", k, resp.Status, msg)
			}
		}
	}
}

// sleepUntil waits for t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
