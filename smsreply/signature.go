package smsreply

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio signs its webhooks with HMAC-SHA1; we only check what it sends
	"encoding/base64"
	"net"
	"net/url"
	"slices"
	"strings"
)

// SignatureHeader is the header Twilio signs its webhook requests in.
const SignatureHeader = "X-Twilio-Signature"

// Sign returns the X-Twilio-Signature of a request to fullURL with form
// as its POST parameters: base64(HMAC-SHA1(authToken, fullURL followed by
// every parameter's name and value, no separators, names sorted byte by
// byte)). A name sent with several values contributes each value once, in
// sorted order, as Twilio's own libraries do. fullURL is the URL Twilio
// called, query string included, exactly as configured in Twilio.
//
// (https://www.twilio.com/docs/usage/security#validating-requests and
// Twilio's helper libraries, whose test vectors our tests use.)
func Sign(authToken, fullURL string, form url.Values) string {
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	slices.Sort(names)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, name := range names {
		values := slices.Clone(form[name])
		slices.Sort(values)
		for _, v := range slices.Compact(values) {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether signature is Twilio's signature of a
// request to fullURL with form as its POST parameters, made with
// authToken. It compares in constant time. Twilio has been seen to sign
// an https URL both with and without an explicit default port, so both
// spellings of fullURL are accepted (as Twilio's libraries do). An empty
// token or signature never verifies.
func VerifySignature(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	got := []byte(signature)
	ok := false
	for _, u := range urlSpellings(fullURL) {
		// Every spelling is checked, so the time taken does not tell which
		// one matched.
		if hmac.Equal([]byte(Sign(authToken, u, form)), got) {
			ok = true
		}
	}
	return ok
}

// urlSpellings returns raw and, when it parses, raw with its port removed
// or the scheme's default port added.
func urlSpellings(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return out
	}
	host, port := u.Hostname(), u.Port()
	switch {
	case port != "":
		// Without the port: what Twilio signs for https on 443, say.
		v := *u
		v.Host = bracket(host)
		out = append(out, v.String())
	case u.Scheme == "https" || u.Scheme == "http":
		def := "443"
		if u.Scheme == "http" {
			def = "80"
		}
		v := *u
		v.Host = net.JoinHostPort(host, def)
		out = append(out, v.String())
	}
	return out
}

// bracket puts an IPv6 literal back in brackets.
func bracket(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}
