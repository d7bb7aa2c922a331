package httpapi_test

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alertgate/alertgate/smsreply"
)

// FuzzTwilioSMS posts arbitrary bodies to the SMS webhook, signed as
// Twilio would sign them (sign) or not, and checks that every answer is a
// 4xx naming the problem or a well-formed TwiML 200: never a 5xx, never
// a panic. The corpus in testdata/fuzz holds the ugly cases.
func FuzzTwilioSMS(f *testing.F) {
	fx := newTwilioFixture(f, io.Discard)
	fx.open(f, "db-1", 0)
	fx.open(f, "db-2", 3)
	for _, s := range []string{
		twilioForm(alicePhone, "1a").Encode(),
		twilioForm(alicePhone, "2r").Encode(),
		twilioForm(alicePhone, "a").Encode(),
		twilioForm(alicePhone, "</Message><Message>x").Encode(),
		twilioForm("+15005550009", "help me").Encode(),
	} {
		f.Add([]byte(s), true)
	}
	f.Add([]byte(""), false)
	const path = "/twilio/sms/sms"
	f.Fuzz(func(t *testing.T, body []byte, sign bool) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sign {
			form, _ := url.ParseQuery(string(body))
			req.Header.Set(smsreply.SignatureHeader, smsreply.Sign(twilioToken, strings.TrimSuffix(twilioPublic, "/")+path, form))
		}
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if ct := rec.Header().Get("Content-Type"); ct != "text/xml; charset=utf-8" {
				t.Fatalf("200 with Content-Type %q", ct)
			}
			var twiml struct {
				XMLName xml.Name `xml:"Response"`
				Message []string `xml:"Message"`
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), &twiml); err != nil {
				t.Fatalf("200 is not TwiML: %v\n%s", err, rec.Body)
			}
			for _, m := range twiml.Message {
				if n := utf8.RuneCountInString(m); n > 1600 {
					t.Fatalf("message of %d characters, over Twilio's 1600", n)
				}
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
			if !strings.Contains(rec.Body.String(), `"message":`) {
				t.Fatalf("%d without a message: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
