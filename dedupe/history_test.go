package dedupe_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
)

// TestHistory: History returns the incidents of the window, from every
// shard, with timelines and alerts' start times as Get has them, and
// refuses a window holding more than its limit.
func TestHistory(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		var ids []string
		// Twenty groups spread over the shards, a minute apart.
		for i := range 20 {
			g := group
			g.Key = fmt.Sprintf("g%d", i)
			a := alert(fmt.Sprintf("a%d", i), alertgate.Firing)
			if i%2 == 0 {
				a.StartsAt = t0.Add(time.Duration(i)*time.Minute - 30*time.Second)
			}
			r := mustIngest(t, s, g, t0.Add(time.Duration(i)*time.Minute), a)
			ids = append(ids, r.IncidentID)
		}
		if _, err := s.Transition(t.Context(), ids[3], change(dedupe.Acknowledge, "", t0.Add(4*time.Minute))); err != nil {
			t.Fatal(err)
		}
		// [t0+2m, t0+9m]: incidents 2 … 9.
		got, err := s.History(t.Context(), t0.Add(2*time.Minute), t0.Add(9*time.Minute), 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Only some types: the others are left out.
		acked, err := s.History(t.Context(), t0, t0.Add(time.Hour), 100, []string{alertgate.EventAcknowledged})
		if err != nil {
			t.Fatal(err)
		}
		var acks int
		for _, inc := range acked {
			for _, e := range inc.Timeline {
				if e.Type != alertgate.EventAcknowledged {
					t.Errorf("incident %s: a %s entry, asked for acknowledged only", inc.ID, e.Type)
				}
				acks++
			}
		}
		if acks != 1 {
			t.Errorf("%d acknowledged entries, want 1", acks)
		}
		var gotIDs []string
		for _, inc := range got {
			gotIDs = append(gotIDs, inc.ID)
			want, err := s.Get(t.Context(), inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(inc.Timeline) == 0 || !slices.EqualFunc(inc.Timeline, want.Timeline, sameEntry) {
				t.Errorf("incident %s: timeline %+v, Get has %+v", inc.ID, inc.Timeline, want.Timeline)
			}
			// Of the alerts, only their start times.
			if len(inc.Alerts) != 1 || !inc.Alerts[0].StartsAt.Equal(want.Alerts[0].StartsAt) || !inc.Alerts[0].FirstSeen.Equal(want.Alerts[0].FirstSeen) {
				t.Errorf("incident %s: alerts %+v, Get has %+v", inc.ID, inc.Alerts, want.Alerts)
			}
			if !inc.TriggeredAt.Equal(want.TriggeredAt) || inc.Status != want.Status {
				t.Errorf("incident %s: %v %s, Get has %v %s", inc.ID, inc.TriggeredAt, inc.Status, want.TriggeredAt, want.Status)
			}
		}
		wantIDs := slices.Clone(ids[2:10])
		slices.Sort(gotIDs)
		slices.Sort(wantIDs)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("history ids %v, want %v", gotIDs, wantIDs)
		}

		_, err = s.History(t.Context(), t0, t0.Add(time.Hour), 19, nil)
		if alertgate.ErrorCode(err) != alertgate.EINVALID || !strings.Contains(err.Error(), "20 incidents") {
			t.Errorf("over the limit: %v, want EINVALID naming 20 incidents", err)
		}
	})
}

// sameEntry compares what History keeps of an entry (not its alert and
// message).
func sameEntry(a, b alertgate.TimelineEntry) bool {
	return a.At.Equal(b.At) && a.Type == b.Type && a.Actor == b.Actor && a.Message == "" && a.Alert == ""
}
