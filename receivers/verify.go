package receivers

// Body signatures, as Grafana sends them and generic senders may:
//
//	X-Grafana-Alerting-Signature: hex(HMAC-SHA256(secret, [timestamp + ":"] + body))
//
// The hex may be upper or lower case and may carry a "sha256=" prefix. A
// header may hold several comma-separated signatures, or appear several
// times; one valid signature is enough. Any configured secret may have
// signed (rotation). When a timestamp header is configured it is required,
// holds Unix seconds, is part of the MAC, and must be within MaxSkew
// (config.DefaultMaxSkew when zero) of the request's Now, in either direction, bounds
// included.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// maxSignatures bounds the signatures one request may offer, so a request
// cannot make us compute an unbounded number of comparisons.
const maxSignatures = 8

type verifier struct {
	secrets  [][]byte
	header   string // canonical form
	tsHeader string // "" when no timestamp is signed
	skew     int64  // seconds
}

// newVerifier returns nil for a nil sig: no signature required. It trusts
// a validated config (see New): without secrets, or with a max_skew below
// zero, every request fails the check. The one thing it refuses is an
// empty secret, under which anyone can sign.
func newVerifier(sig *config.Signature, defaultHeader string) (*verifier, error) {
	if sig == nil {
		return nil, nil
	}
	v := &verifier{
		header:   http.CanonicalHeaderKey(sig.Header),
		tsHeader: http.CanonicalHeaderKey(sig.TimestampHeader),
	}
	if v.header == "" {
		v.header = http.CanonicalHeaderKey(defaultHeader)
	}
	for i, s := range sig.Secrets {
		if s.Reveal() == "" {
			return nil, fmt.Errorf("signature: secrets[%d] is empty", i)
		}
		v.secrets = append(v.secrets, []byte(s.Reveal()))
	}
	v.skew = int64(sig.MaxSkew / time.Second)
	if sig.MaxSkew == 0 {
		v.skew = int64(config.DefaultMaxSkew / time.Second)
	}
	return v, nil
}

func unauthorized(field, format string, args ...any) *alertgate.Error {
	return &alertgate.Error{Code: alertgate.EUNAUTHORIZED, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// check verifies req's signature; a nil verifier accepts everything.
func (v *verifier) check(req Request) error {
	if v == nil {
		return nil
	}
	var ts string
	if v.tsHeader != "" {
		vals := req.Header.Values(v.tsHeader)
		if len(vals) == 0 {
			return unauthorized(v.tsHeader, "missing header")
		}
		if len(vals) > 1 {
			return unauthorized(v.tsHeader, "header given %d times", len(vals))
		}
		ts = strings.TrimSpace(vals[0])
		sec, ok := parseUnixSeconds(ts)
		if !ok {
			return unauthorized(v.tsHeader, "want Unix seconds, got %q", alertgate.Truncate(ts, 32))
		}
		if d := req.Now.Unix() - sec; d > v.skew || d < -v.skew {
			return unauthorized(v.tsHeader, "%d is more than %ds away from now (%d)", sec, v.skew, req.Now.Unix())
		}
	}
	var sigs [maxSignatures][sha256.Size]byte
	n, parts := 0, 0
	for _, hv := range req.Header.Values(v.header) {
		for part := range strings.SplitSeq(hv, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if parts++; parts > maxSignatures {
				return unauthorized(v.header, "more than %d signatures", maxSignatures)
			}
			if len(part) > 7 && strings.EqualFold(part[:7], "sha256=") {
				part = part[7:]
			}
			if len(part) != 2*sha256.Size {
				continue
			}
			if _, err := hex.Decode(sigs[n][:], []byte(part)); err != nil {
				continue
			}
			n++
		}
	}
	switch {
	case parts == 0:
		return unauthorized(v.header, "missing signature")
	case n == 0:
		return unauthorized(v.header, "malformed signature, want %d hex digits", 2*sha256.Size)
	}
	ok := false
	for _, secret := range v.secrets {
		mac := hmac.New(sha256.New, secret)
		if ts != "" {
			mac.Write([]byte(ts))
			mac.Write([]byte{':'})
		}
		mac.Write(req.Body)
		want := mac.Sum(nil)
		for i := range sigs[:n] {
			if hmac.Equal(sigs[i][:], want) {
				ok = true
			}
		}
	}
	if !ok {
		return unauthorized(v.header, "signature does not match the body")
	}
	return nil
}

// parseUnixSeconds accepts only canonical decimal seconds: digits, no sign,
// no leading zero, at most 18 digits (no overflow).
func parseUnixSeconds(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
