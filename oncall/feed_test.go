package oncall_test

import (
	"testing"

	"github.com/alertgate/alertgate/oncall"
)

var feedKey = []byte("feed-secret")

// The vectors come from openssl, not from this code:
//
//	printf 'rotation\0primary' | openssl dgst -sha256 -hmac feed-secret
//	printf 'user\0alice' | openssl dgst -sha256 -hmac feed-secret
func TestFeedToken(t *testing.T) {
	for _, tt := range []struct {
		kind oncall.FeedKind
		id   string
		want string
	}{
		{oncall.FeedRotation, "primary", "2f528a371e6a5fe7d7f27d91c749d815"},
		{oncall.FeedUser, "alice", "f0e00ab457f926ada3ff3e347085cb8a"},
	} {
		if got := oncall.FeedToken(feedKey, tt.kind, tt.id); got != tt.want {
			t.Errorf("FeedToken(%s, %s) = %s, want %s", tt.kind, tt.id, got, tt.want)
		}
	}
}

func TestFeedTokenOK(t *testing.T) {
	good := oncall.FeedToken(feedKey, oncall.FeedRotation, "primary")
	for _, tt := range []struct {
		name  string
		key   []byte
		kind  oncall.FeedKind
		id    string
		token string
		want  bool
	}{
		{"its token", feedKey, oncall.FeedRotation, "primary", good, true},
		{"another rotation", feedKey, oncall.FeedRotation, "secondary", good, false},
		{"a user of the same id", feedKey, oncall.FeedUser, "primary", good, false},
		{"another key", []byte("other"), oncall.FeedRotation, "primary", good, false},
		{"no key", nil, oncall.FeedRotation, "primary", oncall.FeedToken(nil, oncall.FeedRotation, "primary"), false},
		{"empty token", feedKey, oncall.FeedRotation, "primary", "", false},
		{"shortened", feedKey, oncall.FeedRotation, "primary", good[:31], false},
		{"full HMAC", feedKey, oncall.FeedRotation, "primary", "2f528a371e6a5fe7d7f27d91c749d81593c5b1cff75beba51ac301a0d7441573", false},
		{"upper case", feedKey, oncall.FeedRotation, "primary", "2F528A371E6A5FE7D7F27D91C749D815", false},
	} {
		if got := oncall.FeedTokenOK(tt.key, tt.kind, tt.id, tt.token); got != tt.want {
			t.Errorf("%s: FeedTokenOK = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFeedPath(t *testing.T) {
	if got, want := oncall.FeedPath(feedKey, oncall.FeedRotation, "primary"), "/api/v1/rotations/primary/calendar.ics?token=2f528a371e6a5fe7d7f27d91c749d815"; got != want {
		t.Errorf("rotation feed path %s, want %s", got, want)
	}
	if got, want := oncall.FeedPath(feedKey, oncall.FeedUser, "alice"), "/api/v1/users/alice/calendar.ics?token=f0e00ab457f926ada3ff3e347085cb8a"; got != want {
		t.Errorf("user feed path %s, want %s", got, want)
	}
}
