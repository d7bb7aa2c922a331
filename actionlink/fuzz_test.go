package actionlink_test

import (
	"errors"
	"testing"
	"time"

	"github.com/alertgate/alertgate/actionlink"
)

// FuzzVerify: no input panics, every failure is one of the four errors,
// and whatever verifies re-signs to a token that verifies to the same
// claims. testdata/fuzz/FuzzVerify holds ugly inputs.
func FuzzVerify(f *testing.F) {
	c := &clock{start}
	s, err := actionlink.NewSigner([]actionlink.Key{{ID: "k1", Secret: secretA}}, time.Hour, c.now)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := s.Sign(actionlink.Claims{Incident: "12", Action: actionlink.Acknowledge, User: "alice", Epoch: 1, Step: 1})
	f.Add(good)
	f.Add(good + good)
	f.Add("k1..")
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		got, err := s.Verify(token)
		if err != nil {
			if !errors.Is(err, actionlink.ErrMalformed) && !errors.Is(err, actionlink.ErrUnknownKey) &&
				!errors.Is(err, actionlink.ErrBadSignature) && !errors.Is(err, actionlink.ErrExpired) {
				t.Fatalf("Verify(%q) = %v, not one of the package's errors", token, err)
			}
			return
		}
		again, err := s.Sign(got)
		if err != nil {
			t.Fatalf("claims %+v verified but do not sign: %v", got, err)
		}
		back, err := s.Verify(again)
		if err != nil || back != got {
			t.Fatalf("round trip of %+v = %+v, %v", got, back, err)
		}
	})
}
