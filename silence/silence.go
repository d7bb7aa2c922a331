// Package silence holds back pages, never state: silences (made and
// expired while alertgate runs, kept in Redis by Store) and maintenance
// windows (recurring, from the config: Window). An alert whose labels a
// silence or window matches still opens, updates and resolves its
// incident; what the escalation engine does with a muted alert (record it
// on the incident, hold the page, page at once when the muting ends) is
// the engine's. This package answers the questions it asks: which
// silences and windows mute these labels at this instant (Set), and when
// that may change (Set.NextChange).
//
// A silence's matchers are Alertmanager's (package matchers), all of
// which must match. Its state follows from the time alone: pending before
// StartsAt, active from StartsAt until EndsAt, expired from EndsAt.
// Expiring a silence ends it now; it is then kept for Retention and
// deleted.
//
// # Redis layout
//
// Every key is under one hash tag of its own, so each script touches one
// Cluster slot:
//
//	S = <prefix>:v1:{silences}:        (KeyBase)
//
//	S all       hash    silence id → silence JSON (pending, active and expired)
//	S ends      zset    silence id by ends_at (Unix ms)
//	S version   string  a random token that every change replaces
//
// Active, which the escalation engine calls on every pass, is one script:
// it sends the version the store last read and gets back only that
// version when nothing changed, or the silences that have not ended.
// Expired silences stay in the hash for Retention after their end (List
// and Get show them) and are deleted by later changes (Create, Expire),
// at most 100 a call. MaxLive and MaxKept bound what is kept.
package silence

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/matchers"
)

// State is where a silence is in its life, computed from its times.
type State string

const (
	Pending State = "pending" // StartsAt is still to come
	Active  State = "active"  // it mutes matching alerts now
	Expired State = "expired" // EndsAt has passed
)

// States lists the states in the order List returns them.
var States = []State{Active, Pending, Expired}

// Valid reports whether s is one of States.
func (s State) Valid() bool { return slices.Contains(States, s) }

func (s State) String() string { return string(s) }

// Limits of one silence.
const (
	// MaxDuration bounds EndsAt - StartsAt, and how far ahead a silence may
	// start: a silence longer than a year is a change of routing, which
	// belongs in the config.
	MaxDuration = 366 * 24 * time.Hour
	// MaxMatchers bounds a silence's matchers.
	MaxMatchers = 64
	// MaxMatcherLen bounds one matcher as written.
	MaxMatcherLen = 1024
	// MaxCommentLen bounds the comment.
	MaxCommentLen = 1024
	// MaxCreatedByLen bounds created_by.
	MaxCreatedByLen = 128
)

// Silence mutes the alerts whose labels all its Matchers match, from
// StartsAt until EndsAt. Times are UTC, to the millisecond.
type Silence struct {
	ID string `json:"id"`
	// Matchers are in Alertmanager's canonical form (matchers.Matcher's
	// String): name="value", name!="value", name=~"re", name!~"re".
	Matchers  []string  `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// State is computed when the silence is read (it is never stored):
	// the state at the reader's now.
	State State `json:"state,omitempty"`

	parsed matchers.Matchers
}

// StateAt is the silence's state at t.
func (s *Silence) StateAt(t time.Time) State {
	switch {
	case t.Before(s.StartsAt):
		return Pending
	case t.Before(s.EndsAt):
		return Active
	default:
		return Expired
	}
}

// Matches reports whether the silence's matchers all match labels (a
// label absent from labels reads as ""), whatever the time.
func (s *Silence) Matches(labels map[string]string) bool {
	return len(s.parsed) > 0 && s.parsed.Matches(labels)
}

// prepare checks a new silence and puts it in the form the store keeps:
// matchers parsed and written canonically, times in UTC to the
// millisecond, a start in the past moved to now (the silence begins when
// it is made, as in Alertmanager). Errors are EINVALID, naming the field.
func (s *Silence) prepare(now time.Time) error {
	now = now.UTC().Truncate(time.Millisecond)
	if err := s.parseMatchers(true); err != nil {
		return err
	}
	s.StartsAt = s.StartsAt.UTC().Truncate(time.Millisecond)
	s.EndsAt = s.EndsAt.UTC().Truncate(time.Millisecond)
	if s.StartsAt.IsZero() || s.StartsAt.Before(now) {
		s.StartsAt = now
	}
	switch {
	case s.EndsAt.IsZero():
		return alertgate.FieldErrorf("ends_at", "required: when the silence ends")
	case !s.EndsAt.After(now):
		return alertgate.FieldErrorf("ends_at", "%s is not in the future (now is %s)", s.EndsAt.Format(time.RFC3339), now.Format(time.RFC3339))
	case !s.EndsAt.After(s.StartsAt):
		return alertgate.FieldErrorf("ends_at", "%s is not after starts_at %s", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339))
	case s.StartsAt.Sub(now) > MaxDuration:
		return alertgate.FieldErrorf("starts_at", "is more than %d days ahead", days(MaxDuration))
	case s.EndsAt.Sub(s.StartsAt) > MaxDuration:
		return alertgate.FieldErrorf("ends_at", "a silence lasts at most %d days; route the alerts elsewhere in the config for longer", days(MaxDuration))
	}
	switch {
	case strings.TrimSpace(s.Comment) == "":
		return alertgate.FieldErrorf("comment", "required: why the alerts are silenced")
	case len(s.Comment) > MaxCommentLen || !isText(s.Comment, true):
		return alertgate.FieldErrorf("comment", "must be at most %d bytes of UTF-8 text", MaxCommentLen)
	case strings.TrimSpace(s.CreatedBy) == "":
		return alertgate.FieldErrorf("created_by", "required: who made the silence")
	case len(s.CreatedBy) > MaxCreatedByLen || !isText(s.CreatedBy, false):
		return alertgate.FieldErrorf("created_by", "must be at most %d bytes of one line of UTF-8", MaxCreatedByLen)
	}
	s.CreatedAt = now
	s.State = ""
	return nil
}

// parseMatchers parses s.Matchers into s.parsed; canonical rewrites them
// in canonical form and applies the rules for a new silence.
func (s *Silence) parseMatchers(canonical bool) error {
	if len(s.Matchers) == 0 {
		return alertgate.FieldErrorf("matchers", `required: at least one, such as ["alertname=\"DiskFull\""]`)
	}
	if len(s.Matchers) > MaxMatchers {
		return alertgate.FieldErrorf("matchers", "%d matchers; a silence has at most %d", len(s.Matchers), MaxMatchers)
	}
	parsed, err := ParseMatchers(s.Matchers)
	if err != nil {
		return err
	}
	if canonical {
		out := make([]string, len(parsed))
		for i, m := range parsed {
			out[i] = m.String()
		}
		s.Matchers = out
	}
	s.parsed = parsed
	return nil
}

// ParseMatchers parses a silence's or maintenance window's matchers, one
// matcher a string, by the rules both follow: each at most MaxMatcherLen
// bytes, and at least one that does not match the empty string, so that
// no silence mutes every alert by accident (a label absent from an alert
// reads as "": `team=~".*"` alone matches all of them). Errors are
// EINVALID naming "matchers[i]" (or "matchers").
func ParseMatchers(list []string) (matchers.Matchers, error) {
	out := make(matchers.Matchers, 0, len(list))
	selective := false
	for i, str := range list {
		field := fmt.Sprintf("matchers[%d]", i)
		if len(str) > MaxMatcherLen {
			return nil, alertgate.FieldErrorf(field, "longer than %d bytes", MaxMatcherLen)
		}
		m, err := parseMatcher(str)
		if err != nil {
			return nil, alertgate.FieldErrorf(field, "%q is not a matcher such as alertname=\"DiskFull\" or severity=~\"warning|info\": %v",
				alertgate.Truncate(str, 128), err)
		}
		out = append(out, m)
		selective = selective || !m.Matches("")
	}
	if len(out) > 0 && !selective {
		return nil, alertgate.FieldErrorf("matchers", "every matcher matches the empty string, so together they would match every alert; add one that needs a label, such as alertname=~\".+\"")
	}
	return out, nil
}

// parseMatcher is matchers.Parse made safe for input from anyone: a
// panic in it is refused as bad input instead of killing the request.
func parseMatcher(s string) (m *matchers.Matcher, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("unreadable (%v)", r)
		}
	}()
	return matchers.Parse(s)
}

// isText reports whether s is UTF-8 without control characters (tabs and,
// where multiline, newlines allowed).
func isText(s string, multiline bool) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(c rune) bool {
		return unicode.IsControl(c) && c != '\t' && (c != '\n' || !multiline)
	})
}

func days(d time.Duration) int { return int(d / (24 * time.Hour)) }

// sortSilences orders active silences first (soonest to end first), then
// pending ones (soonest to start first), then expired ones (latest to end
// first), by id on ties: what someone reading a list wants to see first.
func sortSilences(list []Silence) {
	rank := func(s State) int { return slices.Index(States, s) }
	slices.SortFunc(list, func(a, b Silence) int {
		if c := cmp.Compare(rank(a.State), rank(b.State)); c != 0 {
			return c
		}
		var c int
		switch a.State {
		case Active:
			c = a.EndsAt.Compare(b.EndsAt)
		case Pending:
			c = a.StartsAt.Compare(b.StartsAt)
		default:
			c = b.EndsAt.Compare(a.EndsAt)
		}
		return cmp.Or(c, cmp.Compare(a.ID, b.ID))
	})
}
