package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// verifyResult is what the incident API holds after a run.
type verifyResult struct {
	Incidents int   `json:"incidents"`
	Alerts    int64 `json:"alerts"`
	Pages     int   `json:"pages"`
}

// maxVerifyPages stops a server whose cursor never ends.
const maxVerifyPages = 100_000

// verify counts the triggered incidents and sums their alert_count,
// following next_cursor through every page.
func verify(ctx context.Context, client *http.Client, base, token string) (verifyResult, error) {
	var res verifyResult
	cursor := ""
	seen := map[string]bool{}
	for {
		q := url.Values{"status": {"triggered"}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page, err := fetchPage(ctx, client, base+"/api/v1/incidents?"+q.Encode(), token)
		if err != nil {
			return res, fmt.Errorf("verify: page %d: %w", res.Pages+1, err)
		}
		res.Pages++
		res.Incidents += len(page.Incidents)
		for _, inc := range page.Incidents {
			res.Alerts += inc.AlertCount
		}
		if page.NextCursor == "" {
			return res, nil
		}
		if seen[page.NextCursor] || res.Pages >= maxVerifyPages {
			return res, fmt.Errorf("verify: the server's next_cursor does not end (page %d, cursor %q)", res.Pages, page.NextCursor)
		}
		seen[page.NextCursor] = true
		cursor = page.NextCursor
	}
}

type incidentPage struct {
	Incidents []struct {
		ID         string `json:"id"`
		AlertCount int64  `json:"alert_count"`
	} `json:"incidents"`
	NextCursor string `json:"next_cursor"`
}

func fetchPage(ctx context.Context, client *http.Client, u, token string) (*incidentPage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, msg)
	}
	var page incidentPage
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("GET %s: reading the answer: %w", u, err)
	}
	return &page, nil
}
