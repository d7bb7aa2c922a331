package reports

import (
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/schedule"
)

// The hand-checked fixture: twelve incidents of the week of Monday
// 2026-11-02 (UTC), with known timestamps, and two just outside it. The
// expected measures are worked out by hand in fixture_report_test.go.
//
// Working hours: alice Mon–Fri 09:00–17:00 UTC; bob Mon–Fri 09:00–17:00
// America/New_York (UTC−5 that week: 14:00–22:00 UTC); carol has none.
//
//	id   service sev      what                                         TTA      TTR
//	I1   api     critical plain, acked by link                          300s    2700s
//	I2   api     critical escalated to step 2 at night, auto-resolved   720s    3000s
//	I3   api     warning  page failed + failover, reopened, auto-res.    120s    5400s
//	I4   db      critical SILENCED 02:00:30–03:00:30, then paged         630s    7200s
//	I5   db      critical acked only by PagerDuty (integration:pd)       –/60s  1860s
//	I6   db      warning  AUTO-RESOLVED, never acked; a channel page     –       600s
//	I7   web     info     DECLARED, impact set, postmortem, follow-ups   –      3600s
//	I8   web     critical flapping: paged, then held; auto-resolved      600s    4800s
//	I9   web     critical still open, acked by the API                  1200s    –
//	I10  api     critical escalated by hand, a failed page               960s    3600s
//	I11  db      critical plain, acked by link                           180s    1200s
//	I12  web     warning  REOPENED: 1st episode auto-res. unacked        720s    3600s
//	I13  api     –        triggered 1 s before the window: left out
//	I14  api     –        triggered at the window's end: left out
var (
	fixtureFrom = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	fixtureTo   = time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	fixtureNow  = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
)

// at is a time of the fixture's week: day 2 is Monday 2026-11-02.
func at(day, h, m, s int) time.Time { return time.Date(2026, 11, day, h, m, s, 0, time.UTC) }

func fixtureOptions(groupBy GroupBy, ackBySender bool) Options {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	nineToFive := []schedule.Restriction{{Days: weekdays, From: 9 * 60, To: 17 * 60}}
	teams := map[string]string{"r-api": "payments", "r-db": "platform", "r-web": "platform"}
	return Options{
		From: fixtureFrom, To: fixtureTo, GroupBy: groupBy, Now: fixtureNow, AckBySender: ackBySender,
		WorkingHours: map[string]schedule.Weekly{
			"alice": {Location: time.UTC, Windows: nineToFive},
			"bob":   {Location: ny, Windows: nineToFive},
		},
		TeamOf: func(route string) string { return teams[route] },
	}
}

func inc(id, service string, sev alertgate.Severity, tl ...alertgate.TimelineEntry) alertgate.Incident {
	return alertgate.Incident{ID: id, Service: service, Route: "r-" + service, Severity: sev, TriggeredAt: tl[0].At, Timeline: tl}
}

func ev(t time.Time, typ, actor string) alertgate.TimelineEntry {
	return alertgate.TimelineEntry{At: t, Type: typ, Actor: actor}
}

func page(t time.Time, typ, key, user string, step int) alertgate.TimelineEntry {
	e := ev(t, typ, "escalation")
	if typ != alertgate.EventPaged {
		e.Actor = "notifier:sms"
	}
	e.Page = &alertgate.PageEntry{Key: key, User: user, Notifier: "sms", Step: step}
	return e
}

const (
	am = "integration:am"
	pd = "integration:pd"
)

func fixture() []alertgate.Incident {
	const (
		trig = alertgate.EventTriggered
		ack  = alertgate.EventAcknowledged
		res  = alertgate.EventResolved
		reo  = alertgate.EventReopened
		pgd  = alertgate.EventPaged
		dlv  = alertgate.EventPageDelivered
		fail = alertgate.EventPageFailed
	)
	i7 := inc("7", "web", alertgate.SeverityInfo,
		ev(at(5, 16, 0, 0), alertgate.EventDeclared, "user:dave"),
		ev(at(5, 16, 0, 0), ack, "user:dave"), // the declarer: left out of MTTA
		ev(at(5, 17, 0, 0), res, "user:dave"),
	)
	impact := ev(at(5, 17, 0, 0), alertgate.EventImpactSet, "user:dave")
	impact.Impact = &alertgate.ImpactEntry{Start: at(5, 15, 40, 0), End: at(5, 16, 50, 0)}
	pmRequired := ev(at(5, 17, 0, 0), alertgate.EventPostmortem, "user:dave")
	pmRequired.Postmortem = &alertgate.PostmortemEntry{Status: "required", Due: at(10, 17, 0, 0)}
	pmDone := ev(at(6, 17, 0, 0), alertgate.EventPostmortem, "user:dave")
	pmDone.Postmortem = &alertgate.PostmortemEntry{Status: "done", DoneAt: at(6, 17, 0, 0)}
	f1 := ev(at(6, 17, 0, 0), alertgate.EventFollowUp, "user:dave")
	f1.FollowUp = &alertgate.FollowUpEntry{ID: "f1", Title: "alert on disk", Due: at(13, 0, 0, 0)}
	f2 := ev(at(6, 17, 0, 0), alertgate.EventFollowUp, "user:dave")
	f2.FollowUp = &alertgate.FollowUpEntry{ID: "f2", Title: "runbook"}
	f2done := ev(at(8, 12, 0, 0), alertgate.EventFollowUp, "user:dave")
	f2done.FollowUp = &alertgate.FollowUpEntry{ID: "f2", Title: "runbook", Done: true, DoneAt: at(8, 12, 0, 0)}
	i7.Timeline = append(i7.Timeline, impact, pmRequired, pmDone, f1, f2, f2done)

	i9 := inc("9", "web", alertgate.SeverityCritical,
		ev(at(7, 10, 0, 0), trig, am),
		page(at(7, 10, 0, 0), pgd, "9.1.0.1.alice", "alice", 1),
		ev(at(7, 10, 20, 0), ack, "api"),
	)
	f3 := ev(at(7, 11, 0, 0), alertgate.EventFollowUp, "user:alice")
	f3.FollowUp = &alertgate.FollowUpEntry{ID: "f3", Title: "capacity", Due: at(30, 0, 0, 0)}
	pm9 := ev(at(7, 11, 0, 0), alertgate.EventPostmortem, "user:alice")
	pm9.Postmortem = &alertgate.PostmortemEntry{Status: "required", Due: at(14, 0, 0, 0)}
	i9.Timeline = append(i9.Timeline, f3, pm9)

	channel := page(at(5, 9, 30, 30), pgd, "6.1.0.1.#ops", "", 1)
	channel.Page.Notifier = "slack-ops"

	return []alertgate.Incident{
		inc("1", "api", alertgate.SeverityCritical,
			ev(at(2, 10, 0, 0), trig, am),
			page(at(2, 10, 0, 30), pgd, "1.1.0.1.alice", "alice", 1),
			page(at(2, 10, 0, 31), dlv, "1.1.0.1.alice", "alice", 1),
			ev(at(2, 10, 5, 0), ack, "alice via link"),
			ev(at(2, 10, 45, 0), res, "user:alice"),
		),
		inc("2", "api", alertgate.SeverityCritical,
			ev(at(2, 23, 0, 0), trig, am),
			page(at(2, 23, 0, 0), pgd, "2.1.0.1.alice", "alice", 1),
			page(at(2, 23, 10, 0), pgd, "2.1.0.2.bob", "bob", 2),
			page(at(2, 23, 10, 5), dlv, "2.1.0.2.bob", "bob", 2), // 18:10 in New York: out of hours
			ev(at(2, 23, 12, 0), ack, "bob via SMS"),
			ev(at(2, 23, 50, 0), res, am),
		),
		inc("3", "api", alertgate.SeverityWarning,
			ev(at(3, 14, 0, 0), trig, am),
			page(at(3, 14, 0, 0), pgd, "3.1.0.1.alice", "alice", 1),
			page(at(3, 14, 0, 20), fail, "3.1.0.1.alice", "alice", 1),
			page(at(3, 14, 0, 20), pgd, "3.1.0.1.alice.2", "alice", 1), // failover: a second page
			ev(at(3, 14, 2, 0), ack, "user:alice"),
			ev(at(3, 15, 0, 0), res, "user:alice"),
			ev(at(3, 15, 3, 0), reo, am),
			page(at(3, 15, 3, 0), pgd, "3.2.0.1.alice", "alice", 1),
			ev(at(3, 15, 4, 0), ack, "alice via link"), // a second ack: not the first
			ev(at(3, 15, 30, 0), res, am),
		),
		inc("4", "db", alertgate.SeverityCritical,
			ev(at(4, 2, 0, 0), trig, am),
			ev(at(4, 2, 0, 30), alertgate.EventHeld, "escalation"),
			ev(at(4, 3, 0, 30), alertgate.EventReleased, "escalation"),
			page(at(4, 3, 0, 30), pgd, "4.1.0.1.carol", "carol", 1),
			ev(at(4, 3, 10, 30), ack, "carol via link"),
			ev(at(4, 4, 0, 0), res, "user:carol"),
		),
		inc("5", "db", alertgate.SeverityCritical,
			ev(at(4, 12, 0, 0), trig, am),
			page(at(4, 12, 0, 0), pgd, "5.1.0.1.bob", "bob", 1), // 07:00 in New York
			ev(at(4, 12, 1, 0), ack, pd),
			ev(at(4, 12, 31, 0), res, "user:bob"),
		),
		inc("6", "db", alertgate.SeverityWarning,
			ev(at(5, 9, 30, 0), trig, am),
			page(at(5, 9, 30, 30), pgd, "6.1.0.1.alice", "alice", 1),
			channel,
			ev(at(5, 9, 40, 0), res, am),
		),
		i7,
		inc("8", "web", alertgate.SeverityCritical,
			ev(at(6, 8, 0, 0), trig, am),
			page(at(6, 8, 0, 0), pgd, "8.1.0.1.alice", "alice", 1),
			ev(at(6, 8, 10, 0), alertgate.EventFlapping, am),
			ev(at(6, 8, 10, 0), alertgate.EventHeld, "escalation"),
			ev(at(6, 8, 40, 0), ack, "user:alice"),
			ev(at(6, 9, 20, 0), alertgate.EventFlapEnded, am),
			ev(at(6, 9, 20, 0), res, am),
		),
		i9,
		inc("10", "api", alertgate.SeverityCritical,
			ev(at(8, 20, 0, 0), trig, am),
			page(at(8, 20, 0, 0), pgd, "10.1.0.1.bob", "bob", 1),
			page(at(8, 20, 0, 10), fail, "10.1.0.1.bob", "bob", 1),
			ev(at(8, 20, 15, 0), alertgate.EventEscalated, "user:carol"),
			page(at(8, 20, 15, 0), pgd, "10.1.0.2.carol", "carol", 2),
			ev(at(8, 20, 16, 0), ack, "carol via link"),
			ev(at(8, 21, 0, 0), res, "user:carol"),
		),
		inc("11", "db", alertgate.SeverityCritical,
			ev(at(2, 15, 0, 0), trig, am),
			page(at(2, 15, 0, 0), pgd, "11.1.0.1.bob", "bob", 1), // 10:00 in New York
			ev(at(2, 15, 3, 0), ack, "bob via link"),
			ev(at(2, 15, 20, 0), res, "user:bob"),
		),
		inc("12", "web", alertgate.SeverityWarning,
			ev(at(3, 9, 0, 0), trig, am),
			page(at(3, 9, 0, 0), pgd, "12.1.0.1.alice", "alice", 1),
			ev(at(3, 9, 10, 0), res, am),
			ev(at(3, 9, 15, 0), reo, am),
			page(at(3, 9, 15, 0), pgd, "12.2.0.1.alice", "alice", 1),
			ev(at(3, 9, 17, 0), ack, "alice via link"),
			ev(at(3, 10, 0, 0), res, "user:alice"),
		),
		inc("13", "api", alertgate.SeverityCritical,
			ev(at(1, 23, 59, 59), trig, am),
			ev(at(2, 0, 5, 0), ack, "user:alice"),
			ev(at(2, 1, 0, 0), res, "user:alice"),
		),
		inc("14", "api", alertgate.SeverityCritical,
			ev(at(9, 0, 0, 0), trig, am),
			ev(at(9, 0, 5, 0), ack, "user:alice"),
		),
	}
}
