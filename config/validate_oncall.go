package config

import (
	"cmp"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate/schedule"
)

// onCall holds what the on-call checks look things up in: the ids of each
// kind, collected before any reference is checked, so that a reference may
// point further down the file.
type onCall struct {
	ps        *problems
	users     ids
	teams     ids
	rotations ids
	policies  ids
	// teamSize is the number of members of each team, by id.
	teamSize map[string]int
	// notifiers maps each notifier id (the built-in console included) to
	// its type.
	notifiers map[string]string
	// never memoises unreachable by layer (see neverOnCall).
	never map[string][]string
}

// validateOnCall checks users, teams, rotations, escalation policies and
// the routes' references to them. docs/oncall.md lists the rules; keep the
// two in step.
func (c *Config) validateOnCall(ps *problems) {
	v := &onCall{
		ps:        ps,
		users:     newIDs("user", "users", "alice"),
		teams:     newIDs("team", "teams", "payments"),
		rotations: newIDs("rotation", "rotations", "payments-primary"),
		policies:  newIDs("escalation policy", "escalation_policies", "payments"),
		teamSize:  make(map[string]int, len(c.Teams)),
		never:     make(map[string][]string),
		notifiers: map[string]string{NotifierConsole: NotifierConsole},
	}
	for _, n := range c.Notifiers {
		if n.ID != "" && n.ID != NotifierConsole {
			v.notifiers[n.ID] = n.Type
		}
	}
	for i := range c.Users {
		v.users.define(ps, index("users", i)+".id", c.Users[i].ID)
	}
	for i := range c.Teams {
		if v.teams.define(ps, index("teams", i)+".id", c.Teams[i].ID) {
			v.teamSize[c.Teams[i].ID] = len(c.Teams[i].Members)
		}
	}
	for i := range c.Rotations {
		v.rotations.define(ps, index("rotations", i)+".id", c.Rotations[i].ID)
	}
	for i := range c.EscalationPolicies {
		v.policies.define(ps, index("escalation_policies", i)+".id", c.EscalationPolicies[i].ID)
	}

	for i := range c.Users {
		v.user(index("users", i), &c.Users[i])
	}
	for i := range c.Teams {
		v.team(index("teams", i), &c.Teams[i])
	}
	for i := range c.Rotations {
		v.rotation(index("rotations", i), &c.Rotations[i])
	}
	for i := range c.EscalationPolicies {
		v.policy(index("escalation_policies", i), &c.EscalationPolicies[i])
	}
	for _, ra := range c.AllRoutes() {
		r, p := ra.Route, ra.Path
		if r.EscalationPolicy != "" {
			v.policies.ref(ps, p+".escalation_policy", r.EscalationPolicy)
		}
		if r.Team != "" {
			v.teams.ref(ps, p+".team", r.Team)
		}
	}
	if c.DefaultEscalationPolicy != "" {
		v.policies.ref(ps, "default_escalation_policy", c.DefaultEscalationPolicy)
	}
}

func (v *onCall) user(p string, u *User) {
	switch {
	case u.TimeZone != "":
		checkZone(v.ps, p+".time_zone", u.TimeZone)
	case u.WorkingHours != nil:
		v.ps.add(p+".time_zone", `required with working_hours: the IANA zone the hours are in, such as "Europe/London"`)
	}
	if u.WorkingHours != nil {
		checkWindow(v.ps, p+".working_hours", u.WorkingHours)
	}
	if len(u.Contacts) == 0 {
		v.ps.add(p+".contacts", "at least one contact is required, or the user cannot be paged: for example {notifier: %s, address: %s}",
			NotifierConsole, cmp.Or(u.ID, "alice"))
	}
	for j, ct := range u.Contacts {
		cp := index(p+".contacts", j)
		typ, known := v.notifier(cp+".notifier", ct.Notifier)
		switch {
		case !known:
		case ct.Address == "" && addressed(typ):
			v.ps.add(cp+".address", "required: where notifier %q sends the page (%s)", ct.Notifier, addressHint(typ))
		case typ == NotifierTwilio && !isE164(ct.Address):
			v.ps.add(cp+".address", "%q is not a phone number in E.164 form, such as +447700900123", ct.Address)
		case typ == NotifierEmail:
			if _, err := mail.ParseAddress(ct.Address); err != nil {
				v.ps.add(cp+".address", "%q is not a mail address", ct.Address)
			}
		}
	}
}

func (v *onCall) team(p string, t *Team) {
	listed := make(map[string]bool, len(t.Members))
	for j, m := range t.Members {
		mp := index(p+".members", j)
		switch {
		case m == "":
			v.ps.add(mp, "must not be empty: name a user id")
		case listed[m]:
			v.ps.add(mp, "%q is listed twice: list each member once", m)
		default:
			v.users.ref(v.ps, mp, m)
		}
		listed[m] = true
	}
}

func (v *onCall) rotation(p string, r *Rotation) {
	if r.Team != "" {
		v.teams.ref(v.ps, p+".team", r.Team)
	}
	var loc *time.Location
	if r.TimeZone == "" {
		v.ps.add(p+".time_zone", `required: the IANA zone of the rotation's start times and restrictions, such as "America/New_York"`)
	} else {
		loc = checkZone(v.ps, p+".time_zone", r.TimeZone)
	}
	if len(r.Layers) == 0 {
		v.ps.add(p+".layers", "at least one layer is required: who takes turns, from when, and how long each shift is")
	}
	names := make(map[string]string, len(r.Layers))
	for j := range r.Layers {
		lp := index(p+".layers", j)
		l := &r.Layers[j]
		if l.Name != "" {
			if first, dup := names[l.Name]; dup {
				v.ps.add(lp+".name", "duplicate layer name %q (also %s): give each layer of a rotation its own name", l.Name, first)
			}
			names[l.Name] = lp + ".name"
		}
		if v.layer(lp, l) && loc != nil {
			v.reachable(lp, l, loc)
		}
	}
}

// layer checks one layer and reports whether it converts to a
// schedule.Layer (unknown participants aside).
func (v *onCall) layer(p string, l *Layer) bool {
	ok := true
	if len(l.Participants) == 0 {
		v.ps.add(p+".participants", "at least one participant is required: the users who take turns")
		ok = false
	}
	for j, u := range l.Participants {
		up := index(p+".participants", j)
		if u == "" {
			v.ps.add(up, "must not be empty: name a user id")
			continue
		}
		v.users.ref(v.ps, up, u)
	}
	if _, err := parseStart(l.Start); err != nil {
		v.ps.add(p+".start", "%v", err)
		ok = false
	}
	if _, err := parseShift(l.Shift); err != nil {
		v.ps.add(p+".shift", "%v", err)
		ok = false
	}
	for j := range l.Restrictions {
		if !checkWindow(v.ps, index(p+".restrictions", j), &l.Restrictions[j]) {
			ok = false
		}
	}
	return ok
}

// reachable reports the participants whom l's restrictions keep from ever
// being on call: they would never be paged through the rotation.
func (v *onCall) reachable(p string, l *Layer, loc *time.Location) {
	if len(l.Restrictions) == 0 {
		return // without restrictions everyone has their shifts
	}
	sl, err := l.schedule()
	if err != nil {
		return // reported field by field already
	}
	never := v.neverOnCall(&sl, loc)
	if len(never) == 0 {
		return
	}
	who := "participant " + never[0] + " is"
	if len(never) > 1 {
		who = "participants " + joinAnd(never) + " are"
	}
	v.ps.add(p+".restrictions", "%s never on call: every one of their shifts falls outside the restrictions; widen the restrictions, change the shift or the order of participants, or move them to another layer", who)
}

// neverOnCall is unreachable, once per distinct layer and zone (names
// aside). Simulating a restricted layer can take milliseconds, and YAML
// aliases can repeat one layer thousands of times in a small file.
func (v *onCall) neverOnCall(l *schedule.Layer, loc *time.Location) []string {
	key := fmt.Sprintf("%s|%q|%v|%v|%v", loc, l.Participants, l.Start, l.Shift, l.Restrictions)
	if never, ok := v.never[key]; ok {
		return never
	}
	never, _ := unreachable(l, loc)
	v.never[key] = never
	return never
}

// unreachable asks package schedule which participants of l are never on
// call. It is a check-config nicety, and a config reload must never take
// the process down: should schedule panic on a layer (a bug there, or its
// computation not in place yet), the check is skipped (ok false) instead.
func unreachable(l *schedule.Layer, loc *time.Location) (never []string, ok bool) {
	defer func() {
		if recover() != nil {
			never, ok = nil, false
		}
	}()
	return l.Unreachable(loc), true
}

func (v *onCall) policy(p string, pol *EscalationPolicy) {
	if pol.Repeat < 0 || pol.Repeat > MaxRepeat {
		v.ps.add(p+".repeat", "must be between 0 and %d: how many more times the whole policy runs after its last step (0: once only)", MaxRepeat)
	}
	if len(pol.Steps) == 0 {
		v.ps.add(p+".steps", "at least one step is required: whom to page, and how long to wait for an acknowledgement")
	}
	for j := range pol.Steps {
		s, sp := &pol.Steps[j], index(p+".steps", j)
		if len(s.Targets) == 0 {
			v.ps.add(sp+".targets", "at least one target is required: a user, team, rotation or notifier to page")
		}
		listed := make(map[string]string, len(s.Targets))
		for k, t := range s.Targets {
			tp := index(sp+".targets", k)
			key := v.target(tp, t)
			if key == "" {
				continue
			}
			if first, dup := listed[key]; dup {
				v.ps.add(tp, "the step already pages %s (%s): list each target once", key, first)
				continue
			}
			listed[key] = tp
		}
		if s.Delay <= 0 {
			v.ps.add(sp+".delay", "must be greater than 0: how long the step waits for an acknowledgement before the policy goes on (for example 5m)")
		}
	}
	if pol.Fallback != nil {
		v.target(p+".fallback", *pol.Fallback)
	}
}

// target checks one target and returns what it pages ("user alice"), or
// "" when it is malformed.
func (v *onCall) target(p string, t Target) string {
	var set []string
	for _, f := range []struct{ name, value string }{
		{"user", t.User}, {"team", t.Team}, {"rotation", t.Rotation}, {"notifier", t.Notifier},
	} {
		if f.value != "" {
			set = append(set, f.name)
		}
	}
	switch len(set) {
	case 0:
		v.ps.add(p, "set one of user, team, rotation or notifier: whom to page")
		return ""
	case 1:
	default:
		v.ps.add(p, "set only one of %s: a target pages one thing; make each its own target", joinAnd(set))
		return ""
	}
	switch {
	case t.User != "":
		v.users.ref(v.ps, p+".user", t.User)
		return "user " + t.User
	case t.Team != "":
		if v.teams.ref(v.ps, p+".team", t.Team) && v.teamSize[t.Team] == 0 {
			v.ps.add(p+".team", "team %q has no members, so this target would page nobody: add members to the team or page someone else", t.Team)
		}
		return "team " + t.Team
	case t.Rotation != "":
		v.rotations.ref(v.ps, p+".rotation", t.Rotation)
		return "rotation " + t.Rotation
	default:
		if typ, known := v.notifier(p+".notifier", t.Notifier); known && addressed(typ) && typ != NotifierConsole {
			v.ps.add(p+".notifier", "a step can page notifier %q only through a user's contact: a %s notifier needs an address; steps may name channel notifiers (webhook, slack, teams, discord)", t.Notifier, typ)
		}
		return "notifier " + t.Notifier
	}
}

// checkWindow checks a weekly window field by field and reports whether it
// converts (Window.Restriction).
func checkWindow(ps *problems, p string, w *Window) bool {
	ok := true
	if len(w.Days) == 0 {
		ps.add(p+".days", msgNoDays)
		ok = false
	}
	listed := make(map[string]bool, len(w.Days))
	for j, d := range w.Days {
		dp := index(p+".days", j)
		if _, err := parseDay(d); err != nil {
			ps.add(dp, "%v", err)
			ok = false
			continue
		}
		if listed[d] {
			ps.add(dp, "%q is listed twice: list each day once", d)
			ok = false
		}
		listed[d] = true
	}
	if _, err := parseFrom(w.From); err != nil {
		ps.add(p+".from", "%v", err)
		ok = false
	}
	if _, err := parseClock(w.To); err != nil {
		ps.add(p+".to", "%v", err)
		ok = false
	}
	return ok
}

func checkZone(ps *problems, p, name string) *time.Location {
	loc, err := LoadZone(name)
	if err != nil {
		ps.add(p, "%v", err)
		return nil
	}
	return loc
}

// notifier checks a reference to a notifier and returns its type.
func (v *onCall) notifier(p, name string) (typ string, known bool) {
	if name == "" {
		v.ps.add(p, "required: the notifier to page through (%s or one of notifiers)", NotifierConsole)
		return "", false
	}
	typ, known = v.notifiers[name]
	if !known {
		v.ps.add(p, "unknown notifier %q: define it under notifiers, or use the built-in %q", name, NotifierConsole)
	}
	return typ, known
}

// addressHint says what a contact's address is for a notifier type.
func addressHint(typ string) string {
	switch typ {
	case NotifierEmail:
		return "a mail address"
	case NotifierTwilio:
		return "a phone number such as +447700900123"
	case NotifierTelegram:
		return "a chat id"
	case NotifierNtfy:
		return "a topic"
	}
	return "any label, such as the user's id"
}

// ids are the ids of one kind of thing (users, teams, …) in file order,
// each with the path that defined it.
type ids struct {
	kind    string // "user"
	list    string // where they are defined: "users"
	example string // an id to show in messages
	where   map[string]string
	order   []string
}

func newIDs(kind, list, example string) ids {
	return ids{kind: kind, list: list, example: example, where: make(map[string]string)}
}

// define checks the id at p and records it. It reports whether it was
// recorded: it is not when empty or a duplicate. An id that breaks the
// naming rules is recorded anyway, so references to it are not reported as
// well.
func (s *ids) define(ps *problems, p, id string) bool {
	switch {
	case id == "":
		ps.add(p, "required: a unique id for the %s, such as %q", s.kind, s.example)
		return false
	case !isName(id):
		ps.add(p, `%q is not a valid id: 1 to 63 lower-case letters, digits, "_" and "-", starting with a letter or digit`, id)
	}
	if first, dup := s.where[id]; dup {
		ps.add(p, "duplicate %s id %q (also %s): give each %s its own id", s.kind, id, first, s.kind)
		return false
	}
	s.where[id] = p
	s.order = append(s.order, id)
	return true
}

// ref checks that id, referred to at p, is defined, and reports whether it
// is.
func (s *ids) ref(ps *problems, p, id string) bool {
	if _, ok := s.where[id]; ok {
		return true
	}
	ps.add(p, "unknown %s %q%s: define it under %s, or fix the id", s.kind, id, suggest(id, s.order), s.list)
	return false
}

// index is the path of element i of the list at p: "users[3]".
func index(p string, i int) string {
	return p + "[" + strconv.Itoa(i) + "]"
}

// joinAnd lists words as "a", "a and b" or "a, b and c".
func joinAnd(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
