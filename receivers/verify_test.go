package receivers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

const (
	oldSecret = "old-secret-0123456789"
	newSecret = "new-secret-9876543210"
	tsHeader  = "X-Grafana-Alerting-Timestamp"
)

func sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	if ts != "" {
		mac.Write([]byte(ts + ":"))
	}
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func signedIntegration(typ string, withTimestamp bool) config.Integration {
	in := testIntegration(typ)
	in.Signature = &config.Signature{Secrets: []config.Secret{newSecret, oldSecret}, MaxSkew: 5 * time.Minute}
	if withTimestamp {
		in.Signature.TimestampHeader = tsHeader
	}
	return in
}

var signedBodies = map[string][]byte{
	config.TypeGrafana: []byte(`{"version":"1","alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"f1"}]}`),
	config.TypeGeneric: []byte(`{"events":[{"id":"e1","title":"disk full"}]}`),
}

var sigHeaders = map[string]string{
	config.TypeGrafana: "X-Grafana-Alerting-Signature",
	config.TypeGeneric: "X-Alertgate-Signature",
}

func TestSignatureWithoutTimestamp(t *testing.T) {
	for _, typ := range []string{config.TypeGrafana, config.TypeGeneric} {
		in := signedIntegration(typ, false)
		r := mustNew(t, in)
		body := signedBodies[typ]
		good := sign(newSecret, "", body)
		for _, tc := range []struct {
			name   string
			header http.Header
			body   []byte
			wantOK bool
		}{
			{"valid", http.Header{sigHeaders[typ]: {good}}, body, true},
			{"rotated secret", http.Header{sigHeaders[typ]: {sign(oldSecret, "", body)}}, body, true},
			{"upper-case hex", http.Header{sigHeaders[typ]: {strings.ToUpper(good)}}, body, true},
			{"sha256= prefix", http.Header{sigHeaders[typ]: {"sha256=" + good}}, body, true},
			{"SHA256= prefix", http.Header{sigHeaders[typ]: {"SHA256=" + good}}, body, true},
			{"spaces around", http.Header{sigHeaders[typ]: {"  " + good + " "}}, body, true},
			{"one of several, comma-separated", http.Header{sigHeaders[typ]: {"sha256=" + strings.Repeat("0", 64) + ", sha256=" + good}}, body, true},
			{"one of several headers", http.Header{sigHeaders[typ]: {"zz", good}}, body, true},
			{"wrong secret", http.Header{sigHeaders[typ]: {sign("guess", "", body)}}, body, false},
			{"missing header", http.Header{}, body, false},
			{"nil header", nil, body, false},
			{"empty header", http.Header{sigHeaders[typ]: {""}}, body, false},
			{"non-hex", http.Header{sigHeaders[typ]: {strings.Repeat("zz", 32)}}, body, false},
			{"too short", http.Header{sigHeaders[typ]: {good[:62]}}, body, false},
			{"too long", http.Header{sigHeaders[typ]: {good + "00"}}, body, false},
			{"base64 instead of hex", http.Header{sigHeaders[typ]: {"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="}}, body, false},
			{"body changed", http.Header{sigHeaders[typ]: {good}}, append(append([]byte{}, body...), '\n'), false},
			{"none of several valid", http.Header{sigHeaders[typ]: {sign("a", "", body) + "," + sign("b", "", body)}}, body, false},
			{"too many signatures", http.Header{sigHeaders[typ]: {strings.Repeat("00,", 9) + good}}, body, false},
			{"signed with a timestamp nobody asked for", http.Header{sigHeaders[typ]: {sign(newSecret, "1700000000", body)}}, body, false},
		} {
			t.Run(typ+"/"+tc.name, func(t *testing.T) {
				b, err := parse(t, r, tc.body, tc.header)
				if tc.wantOK {
					if err != nil {
						t.Fatalf("Parse: %v", err)
					}
					checkBatch(t, in, b)
					if got, want := len(b.Alerts), 1; got != want {
						t.Fatalf("got %d alerts, want %d", got, want)
					}
					return
				}
				wantUnauthorized(t, err)
			})
		}
	}
}

func TestSignatureWithTimestamp(t *testing.T) {
	now := testNow.Unix()
	ts := func(d int64) string { return strconv.FormatInt(now+d, 10) }
	for _, typ := range []string{config.TypeGrafana, config.TypeGeneric} {
		in := signedIntegration(typ, true)
		r := mustNew(t, in)
		body := signedBodies[typ]
		h := func(ts, sig string) http.Header {
			hd := http.Header{}
			if ts != "\x00" {
				hd.Set(tsHeader, ts)
			}
			hd.Set(sigHeaders[typ], sig)
			return hd
		}
		signed := func(ts string) http.Header { return h(ts, sign(newSecret, ts, body)) }
		for _, tc := range []struct {
			name   string
			header http.Header
			wantOK bool
		}{
			{"now", signed(ts(0)), true},
			{"exactly +skew", signed(ts(300)), true},
			{"exactly -skew", signed(ts(-300)), true},
			{"+skew+1s", signed(ts(301)), false},
			{"-skew-1s", signed(ts(-301)), false},
			{"rotated secret", h(ts(0), sign(oldSecret, ts(0), body)), true},
			{"timestamp missing", h("\x00", sign(newSecret, ts(0), body)), false},
			{"timestamp empty", signed(""), false},
			{"non-numeric", signed("soon"), false},
			{"negative", signed("-" + ts(0)), false},
			{"float", signed(ts(0) + ".5"), false},
			{"leading zeros", signed("0" + ts(0)), false},
			{"plus sign", signed("+" + ts(0)), false},
			{"larger than 2^63", signed("99999999999999999999"), false},
			{"milliseconds", signed(strconv.FormatInt(now*1000, 10)), false},
			{"RFC 3339", signed(testNow.Format(time.RFC3339)), false},
			{"timestamp moved", h(ts(1), sign(newSecret, ts(0), body)), false},
			{"signature without the timestamp", h(ts(0), sign(newSecret, "", body)), false},
			{"wrong secret", h(ts(0), sign("guess", ts(0), body)), false},
		} {
			t.Run(typ+"/"+tc.name, func(t *testing.T) {
				b, err := parse(t, r, body, tc.header)
				if tc.wantOK {
					if err != nil {
						t.Fatalf("Parse: %v", err)
					}
					checkBatch(t, in, b)
					return
				}
				wantUnauthorized(t, err)
			})
		}
	}
}

// A duplicated timestamp header is ambiguous: which one was signed?
func TestSignatureTimestampTwice(t *testing.T) {
	r := mustNew(t, signedIntegration(config.TypeGrafana, true))
	body := signedBodies[config.TypeGrafana]
	ts := strconv.FormatInt(testNow.Unix(), 10)
	hd := http.Header{}
	hd.Add(tsHeader, ts)
	hd.Add(tsHeader, ts)
	hd.Set(sigHeaders[config.TypeGrafana], sign(newSecret, ts, body))
	_, err := parse(t, r, body, hd)
	if got, want := alertgate.ErrorCode(err), alertgate.EUNAUTHORIZED; got != want {
		t.Fatalf("code = %q, want %q (%v)", got, want, err)
	}
}

// The signature is checked before the body is read: an unsigned bad body is
// unauthorized, not invalid.
func TestSignatureBeforeParsing(t *testing.T) {
	r := mustNew(t, signedIntegration(config.TypeGeneric, false))
	_, err := parse(t, r, []byte("not json"), nil)
	if got, want := alertgate.ErrorCode(err), alertgate.EUNAUTHORIZED; got != want {
		t.Fatalf("code = %q, want %q (%v)", got, want, err)
	}
	body := []byte("not json")
	_, err = parse(t, r, body, http.Header{"X-Alertgate-Signature": {sign(oldSecret, "", body)}})
	if got, want := alertgate.ErrorCode(err), alertgate.EINVALID; got != want {
		t.Fatalf("signed bad body: code = %q, want %q (%v)", got, want, err)
	}
}

func TestSignatureCustomHeader(t *testing.T) {
	in := signedIntegration(config.TypeGeneric, false)
	in.Signature.Header = "x-hub-signature-256"
	r := mustNew(t, in)
	body := signedBodies[config.TypeGeneric]
	hd := http.Header{}
	hd.Set("X-Hub-Signature-256", "sha256="+sign(newSecret, "", body))
	if _, err := parse(t, r, body, hd); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}

func TestSignatureConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Integration)
	}{
		// config.Validate also refuses no secrets and a max_skew of 0 or
		// less; New trusts it there, since those fail every request.
		{"empty secret", func(in *config.Integration) { in.Signature.Secrets = []config.Secret{"ok", ""} }},
		{"on alertmanager", func(in *config.Integration) { in.Type = config.TypeAlertmanager }},
		{"on datadog", func(in *config.Integration) { in.Type = config.TypeDatadog; in.Generic = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := signedIntegration(config.TypeGeneric, false)
			tc.edit(&in)
			if _, err := New(in); err == nil {
				t.Fatal("New accepted it")
			} else if strings.Contains(err.Error(), newSecret) || strings.Contains(err.Error(), oldSecret) {
				t.Fatalf("error reveals a secret: %v", err)
			}
		})
	}
}

// referenceVerify is a plain second implementation of the scheme, for the
// differential fuzz test: one signature, no timestamp.
func referenceVerify(secrets []string, body []byte, header string) bool {
	sig := strings.TrimSpace(header)
	if len(sig) >= 7 && strings.ToLower(sig[:7]) == "sha256=" {
		sig = sig[7:]
	}
	sig = strings.ToLower(sig)
	for _, s := range secrets {
		if sig == sign(s, "", body) {
			return true
		}
	}
	return false
}

func FuzzVerifySignature(f *testing.F) {
	body := signedBodies[config.TypeGeneric]
	f.Add(body, sign(newSecret, "", body))
	f.Add(body, "sha256="+strings.ToUpper(sign(oldSecret, "", body)))
	f.Add(body, sign("other", "", body))
	f.Add([]byte{}, "")
	f.Add(body, "sha256=")
	f.Add(body, strings.Repeat("0", 64))
	in := signedIntegration(config.TypeGeneric, false)
	v, err := newVerifier(in.Signature, "X-Alertgate-Signature")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		err := v.check(Request{Body: body, Header: http.Header{"X-Alertgate-Signature": {header}}, Now: testNow})
		if err != nil {
			if got, want := alertgate.ErrorCode(err), alertgate.EUNAUTHORIZED; got != want {
				t.Fatalf("code = %q, want %q", got, want)
			}
		}
		if strings.Contains(header, ",") {
			return // several signatures: the reference knows only one
		}
		if got, want := err == nil, referenceVerify([]string{newSecret, oldSecret}, body, header); got != want {
			t.Fatalf("check(%q) accepted=%v, reference says %v (err %v)", header, got, want, err)
		}
	})
}

// wantUnauthorized fails unless err is a 401-class error naming its field.
func wantUnauthorized(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("Parse accepted it")
	}
	if got, want := alertgate.ErrorCode(err), alertgate.EUNAUTHORIZED; got != want {
		t.Fatalf("code = %q, want %q (%v)", got, want, err)
	}
	_ = checkErr(t, err)
}

// New trusts config.Validate to refuse a signature without secrets or with
// a max_skew below zero; built anyway, such a receiver refuses every
// request rather than let one through unchecked.
func TestSignatureInvalidConfigFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Signature)
	}{
		{"no secrets", func(s *config.Signature) { s.Secrets = nil }},
		{"negative skew", func(s *config.Signature) { s.MaxSkew = -time.Minute }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := signedIntegration(config.TypeGrafana, true)
			tc.edit(in.Signature)
			r := mustNew(t, in)
			body := signedBodies[config.TypeGrafana]
			ts := strconv.FormatInt(testNow.Unix(), 10)
			hd := http.Header{}
			hd.Set(tsHeader, ts)
			hd.Set(sigHeaders[config.TypeGrafana], sign(newSecret, ts, body))
			_, err := parse(t, r, body, hd)
			if got, want := alertgate.ErrorCode(err), alertgate.EUNAUTHORIZED; got != want {
				t.Fatalf("code = %q, want %q (%v)", got, want, err)
			}
		})
	}
}
