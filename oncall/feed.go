package oncall

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
)

// FeedKind is what a calendar feed shows: one rotation's shifts, or one
// user's across every rotation.
type FeedKind string

const (
	FeedRotation FeedKind = "rotation"
	FeedUser     FeedKind = "user"
)

// feedTokenLen is the length of a feed token in hex digits: 128 bits.
const feedTokenLen = 32

// FeedToken is the token that opens the feed of kind for id: the first 32
// hex digits of HMAC-SHA256(key, kind + "\x00" + id). Calendar apps
// cannot send an Authorization header, so the token travels in the URL;
// one per feed means a leaked feed URL shows that feed only. Changing the
// key (api.feed_secret) revokes every feed URL at once.
func FeedToken(key []byte, kind FeedKind, id string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(string(kind) + "\x00" + id))
	return hex.EncodeToString(mac.Sum(nil))[:feedTokenLen]
}

// FeedTokenOK reports, in constant time, whether token opens the feed of
// kind for id. With no key every token is refused: feeds are off.
func FeedTokenOK(key []byte, kind FeedKind, id, token string) bool {
	if len(key) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(FeedToken(key, kind, id)), []byte(token)) == 1
}

// FeedPath is the path and query of the feed of kind for id, token
// included: "/api/v1/rotations/<id>/calendar.ics?token=<token>" or
// "/api/v1/users/<id>/calendar.ics?token=<token>". Prefix it with the
// public URL to give it to a calendar app.
func FeedPath(key []byte, kind FeedKind, id string) string {
	collection := "rotations"
	if kind == FeedUser {
		collection = "users"
	}
	return "/api/v1/" + collection + "/" + url.PathEscape(id) + "/calendar.ics?token=" + FeedToken(key, kind, id)
}
