package smsreply

import (
	"net/url"
	"testing"
)

// twilioExample is the request of Twilio's documented example (Security
// guide, "Validating requests"; the same vector is in twilio-go's
// client/request_validator_test.go): auth token 12345.
var twilioExample = url.Values{
	"CallSid": {"CA1234567890ABCDE"},
	"Caller":  {"+14158675309"},
	"Digits":  {"1234"},
	"From":    {"+14158675309"},
	"To":      {"+18005551212"},
}

func TestVerifySignatureTwilioVectors(t *testing.T) {
	const token = "12345"
	for _, tc := range []struct {
		url, sig string
	}{
		// The documented example.
		{"https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		// twilio-go's port cases: Twilio signs with or without the port.
		{"https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"https://mycompany.com/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="},
		{"http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
	} {
		if !VerifySignature(token, tc.url, twilioExample, tc.sig) {
			t.Errorf("VerifySignature(%s, %s) = false, want true", tc.url, tc.sig)
		}
	}
	if got, want := Sign(token, "https://mycompany.com/myapp.php?foo=1&bar=2", twilioExample), "RSOYDt4T1cUTdK1PDd93/VVr8B8="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignatureRefuses(t *testing.T) {
	const token = "12345"
	u := "https://mycompany.com/myapp.php?foo=1&bar=2"
	good := "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	changed := url.Values{}
	for k, v := range twilioExample {
		changed[k] = v
	}
	changed.Set("Digits", "1235")
	extra := url.Values{"Body": {"1a"}}
	for k, v := range twilioExample {
		extra[k] = v
	}
	for name, ok := range map[string]bool{
		"wrong token":     VerifySignature("12346", u, twilioExample, good),
		"empty token":     VerifySignature("", u, twilioExample, good),
		"empty signature": VerifySignature(token, u, twilioExample, ""),
		"other value":     VerifySignature(token, u, changed, good),
		"added param":     VerifySignature(token, u, extra, good),
		"other path":      VerifySignature(token, "https://mycompany.com/myapp.php?foo=1&bar=3", twilioExample, good),
		"other scheme":    VerifySignature(token, "http://mycompany.com/myapp.php?foo=1&bar=2", twilioExample, good),
		"truncated":       VerifySignature(token, u, twilioExample, good[:len(good)-1]),
		"not a URL":       VerifySignature(token, "::", twilioExample, good),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestSignSortsNamesAndValues(t *testing.T) {
	// Names sort byte by byte (upper case first); a repeated name gives
	// each value once, sorted.
	a := url.Values{"b": {"2", "1", "2"}, "B": {"x"}, "a": {""}}
	b := url.Values{"B": {"x"}, "a": {""}, "b": {"1", "2"}}
	if Sign("k", "https://h/p", a) != Sign("k", "https://h/p", b) {
		t.Error("duplicate or unsorted values change the signature")
	}
	if Sign("k", "https://h/p", a) != Sign("k", "https://h/pBxab1b2", nil) {
		t.Error("the signed string is not URL + Bx a b1 b2")
	}
}
