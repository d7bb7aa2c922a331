package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/notify"
)

// People's work on incidents (docs/incidents-work.md): declaring one by
// hand, roles, status updates, the impact window, the postmortem and the
// follow-ups. Each change is one work.lua call: a timeline entry and the
// current state in the incident's hash, atomically, idempotent per request.

// Declaration is an incident a person opens by hand.
type Declaration struct {
	Title     string
	Service   string
	Severity  alertgate.Severity
	Commander string
	// Policy starts that escalation policy now (its first step is due at
	// once); Rotation pages the rotation's on-call person now. At most one.
	Policy   string
	Rotation string
}

// Declare opens a declared incident. A repeat of the request (same
// RequestID) returns the incident it declared, with created false. When
// paging the rotation fails (nobody on call, escalation not running), the
// incident stays declared and a note on its timeline says why.
func (s *Service) Declare(ctx context.Context, d Declaration, by By) (inc *alertgate.Incident, created bool, err error) {
	if by.RequestID == "" {
		by.RequestID = redisx.RequestID()
	}
	now := s.now()
	id, created, err := s.store.Declare(ctx, dedupe.Declaration{
		Title: d.Title, Service: d.Service, Severity: d.Severity, Commander: d.Commander,
		Policy: d.Policy, Quiet: d.Rotation != "", Actor: by.Actor, RequestID: by.RequestID, Now: now,
	})
	if err != nil {
		return nil, false, err
	}
	if created {
		s.logger.Info("incident declared", "incident_id", id, "actor", by.Actor, "severity", string(d.Severity), "service", d.Service)
		s.observer.IncidentEvent(alertgate.EventDeclared)
		if d.Policy != "" && s.scheduled != nil {
			s.scheduled() // the first step is due now
		}
	}
	if d.Rotation != "" {
		// Its own request id: the declare's is the mark of the declare;
		// a repeat of the declare pages once all the same (the reassign
		// remembers this id).
		page := By{Actor: by.Actor, RequestID: by.RequestID + ".page"}
		if _, err := s.Reassign(ctx, id, escalation.Target{Kind: escalation.Rotation, ID: d.Rotation}, page, "declared"); err != nil {
			if alertgate.ErrorCode(err) == alertgate.EINTERNAL {
				return nil, created, err
			}
			note := By{Actor: by.Actor, RequestID: by.RequestID + ".note"}
			if _, nerr := s.AddNote(ctx, id, note, "could not page rotation "+d.Rotation+": "+alertgate.ErrorMessage(err)); nerr != nil {
				return nil, created, nerr
			}
		}
	}
	inc, err = s.store.Get(ctx, id)
	return inc, created, err
}

// AssignRole hands role to user ("" takes it from whoever holds it).
// Handing it to whoever holds it already changes nothing.
func (s *Service) AssignRole(ctx context.Context, id, role, user string, by By) (*alertgate.Incident, error) {
	msg := role + ": " + user
	if user == "" {
		msg = role + ": nobody"
	}
	_, err := s.work(ctx, id, by, dedupe.WorkChange{
		Entry: alertgate.TimelineEntry{Type: alertgate.EventRoleAssigned, Message: msg, Role: &alertgate.RoleEntry{Role: role, User: user}},
		Field: dedupe.RoleField + role, Value: user,
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, id)
}

// PostStatusUpdate records a status update and queues it to the
// incident's stakeholder notifiers (status_updates in the config), in one
// step. It returns the incident and the notifiers it went to.
func (s *Service) PostStatusUpdate(ctx context.Context, id, text string, to *config.StatusUpdates, by By) (*alertgate.Incident, []string, error) {
	if by.RequestID == "" {
		by.RequestID = redisx.RequestID()
	}
	inc, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	notifiers := to.For(inc.Service)
	var pages [][]byte
	for _, n := range notifiers {
		p := workPage(inc, notify.KindStatusUpdate, n, now)
		p.Key = id + ".update." + by.RequestID + "." + n
		p.Reason = text
		b, err := json.Marshal(p)
		if err != nil {
			return nil, nil, internalError(err)
		}
		pages = append(pages, b)
	}
	if _, err := s.work(ctx, id, by, dedupe.WorkChange{
		Entry: alertgate.TimelineEntry{Type: alertgate.EventStatusUpdate, Message: text},
		Pages: pages,
	}); err != nil {
		return nil, nil, err
	}
	inc, err = s.store.Get(ctx, id)
	return inc, notifiers, err
}

// workPage is a message about incident inc to a notifier (a channel).
func workPage(inc *alertgate.Incident, kind notify.Kind, notifier string, now time.Time) notify.Page {
	return notify.Page{
		Incident: inc.ID, Title: inc.Title, Service: inc.Service, Severity: inc.Severity,
		AlertCount: inc.AlertCount, Since: inc.TriggeredAt, Notifier: notifier, Address: notifier,
		At: now, Kind: kind,
	}
}

// SetImpact sets the customer-impact window (a zero end: it lasts).
func (s *Service) SetImpact(ctx context.Context, id string, start, end time.Time, by By) (*alertgate.Incident, error) {
	if start.IsZero() {
		return nil, alertgate.FieldErrorf("start", "required: when customers were first affected")
	}
	if !end.IsZero() && end.Before(start) {
		return nil, alertgate.FieldErrorf("end", "is before start")
	}
	im := alertgate.ImpactEntry{Start: start.UTC(), End: end.UTC()}
	if end.IsZero() {
		im.End = time.Time{}
	}
	value, err := json.Marshal(im)
	if err != nil {
		return nil, alertgate.FieldErrorf("start", "out of range")
	}
	msg := "customer impact from " + im.Start.Format(time.RFC3339)
	if !im.End.IsZero() {
		msg += " to " + im.End.Format(time.RFC3339)
	}
	if _, err := s.work(ctx, id, by, dedupe.WorkChange{
		Entry: alertgate.TimelineEntry{Type: alertgate.EventImpactSet, Message: msg, Impact: &im},
		Field: dedupe.ImpactField, Value: string(value),
	}); err != nil {
		return nil, err
	}
	return s.store.Get(ctx, id)
}

// PostmortemChange is a change to the postmortem; nil fields stay.
type PostmortemChange struct {
	Status *string
	Link   *string
	Due    *time.Time
}

// SetPostmortem changes the postmortem: its status (required, draft,
// done), link and due time. Done needs a resolved incident (ECONFLICT);
// done keeps the time it was first done at.
func (s *Service) SetPostmortem(ctx context.Context, id string, c PostmortemChange, rules *config.Postmortems, by By) (*alertgate.Incident, error) {
	for range maxMergeTries {
		inc, err := s.store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		prev, err := s.store.WorkField(ctx, id, dedupe.PostmortemField)
		if err != nil {
			return nil, err
		}
		now := s.now()
		ApplyPostmortemRule(inc, rules, now)
		var pm alertgate.PostmortemEntry
		if inc.Postmortem != nil {
			pm = inc.Postmortem.PostmortemEntry
		}
		if prev != "" {
			pm = alertgate.PostmortemEntry{}
			if err := json.Unmarshal([]byte(prev), &pm); err != nil {
				return nil, internalError(fmt.Errorf("incident %s postmortem: %w", id, err))
			}
		}
		wasDone := pm.Status == alertgate.PostmortemDone
		if c.Status != nil {
			pm.Status = *c.Status
		}
		if pm.Status == "" {
			pm.Status = alertgate.PostmortemDraft
		}
		if c.Link != nil {
			pm.Link = *c.Link
		}
		if c.Due != nil {
			pm.Due = c.Due.UTC()
		}
		switch {
		case pm.Status == alertgate.PostmortemDone && !wasDone:
			pm.DoneAt = now.UTC()
		case pm.Status != alertgate.PostmortemDone:
			pm.DoneAt = time.Time{}
		}
		value, err := json.Marshal(pm)
		if err != nil {
			return nil, alertgate.FieldErrorf("due", "out of range")
		}
		msg := "postmortem " + pm.Status
		if pm.Link != "" {
			msg += ": " + pm.Link
		}
		result, err := s.work(ctx, id, by, dedupe.WorkChange{
			Entry: alertgate.TimelineEntry{Type: alertgate.EventPostmortem, Message: msg, Postmortem: &pm},
			Field: dedupe.PostmortemField, Value: string(value), Prev: &prev,
			ResolvedOnly: pm.Status == alertgate.PostmortemDone,
		})
		if err != nil {
			return nil, err
		}
		if result == dedupe.WorkStale {
			continue
		}
		return s.GetWork(ctx, id, rules)
	}
	return nil, alertgate.Errorf(alertgate.ECONFLICT, "the postmortem of incident %s kept changing while this change was made; try again", id)
}

// maxMergeTries bounds the retries of a partial change that lost a race
// with another change of the same state.
const maxMergeTries = 5

// FollowUpChange is a follow-up's fields; nil fields stay (on a change)
// or are empty (on an add).
type FollowUpChange struct {
	Title *string
	Owner *string
	Due   *time.Time
	Link  *string
	Done  *bool
}

// AddFollowUp adds a follow-up action; it returns the incident and the
// follow-up's id. A repeat of the request adds it once (the id follows
// from the request id).
func (s *Service) AddFollowUp(ctx context.Context, id string, c FollowUpChange, by By) (*alertgate.Incident, string, error) {
	if c.Title == nil || *c.Title == "" {
		return nil, "", alertgate.FieldErrorf("title", "required: what is to be done")
	}
	if by.RequestID == "" {
		by.RequestID = redisx.RequestID()
	}
	sum := sha256.Sum256([]byte(id + "\x00" + by.RequestID))
	fu := alertgate.FollowUpEntry{ID: "fu-" + hex.EncodeToString(sum[:5])}
	now := s.now()
	applyFollowUp(&fu, c, now)
	value, err := json.Marshal(fu)
	if err != nil {
		return nil, "", alertgate.FieldErrorf("due", "out of range")
	}
	result, err := s.work(ctx, id, by, dedupe.WorkChange{
		Entry: alertgate.TimelineEntry{Type: alertgate.EventFollowUp, Message: "follow-up added: " + fu.Title, FollowUp: &fu},
		Field: dedupe.FollowUpField + fu.ID, Value: string(value), Want: "new",
	})
	if err != nil {
		return nil, "", err
	}
	if result == dedupe.WorkExists {
		return nil, "", alertgate.Errorf(alertgate.ECONFLICT, "follow-up %s exists already", fu.ID)
	}
	inc, err := s.store.Get(ctx, id)
	return inc, fu.ID, err
}

// UpdateFollowUp changes a follow-up: its fields, or done.
func (s *Service) UpdateFollowUp(ctx context.Context, id, fuID string, c FollowUpChange, by By) (*alertgate.Incident, error) {
	for range maxMergeTries {
		prev, err := s.store.WorkField(ctx, id, dedupe.FollowUpField+fuID)
		if err != nil {
			return nil, err
		}
		if prev == "" {
			return nil, alertgate.Errorf(alertgate.ENOTFOUND, "incident %s has no follow-up %q", id, alertgate.Truncate(fuID, 64))
		}
		var fu alertgate.FollowUpEntry
		if err := json.Unmarshal([]byte(prev), &fu); err != nil {
			return nil, internalError(fmt.Errorf("incident %s follow-up %s: %w", id, fuID, err))
		}
		applyFollowUp(&fu, c, s.now())
		if fu.Title == "" {
			return nil, alertgate.FieldErrorf("title", "must not be empty")
		}
		value, err := json.Marshal(fu)
		if err != nil {
			return nil, alertgate.FieldErrorf("due", "out of range")
		}
		msg := "follow-up changed: " + fu.Title
		if fu.Done {
			msg = "follow-up done: " + fu.Title
		}
		result, err := s.work(ctx, id, by, dedupe.WorkChange{
			Entry: alertgate.TimelineEntry{Type: alertgate.EventFollowUp, Message: msg, FollowUp: &fu},
			Field: dedupe.FollowUpField + fuID, Value: string(value), Prev: &prev, Want: "existing",
		})
		if err != nil {
			return nil, err
		}
		switch result {
		case dedupe.WorkStale:
			continue
		case dedupe.WorkMissing:
			return nil, alertgate.Errorf(alertgate.ENOTFOUND, "incident %s has no follow-up %q", id, alertgate.Truncate(fuID, 64))
		}
		return s.store.Get(ctx, id)
	}
	return nil, alertgate.Errorf(alertgate.ECONFLICT, "follow-up %s kept changing while this change was made; try again", fuID)
}

func applyFollowUp(fu *alertgate.FollowUpEntry, c FollowUpChange, now time.Time) {
	if c.Title != nil {
		fu.Title = *c.Title
	}
	if c.Owner != nil {
		fu.Owner = *c.Owner
	}
	if c.Due != nil {
		fu.Due = c.Due.UTC()
	}
	if c.Link != nil {
		fu.Link = *c.Link
	}
	if c.Done != nil {
		if *c.Done && !fu.Done {
			fu.DoneAt = now.UTC()
		}
		fu.Done = *c.Done
		if !fu.Done {
			fu.DoneAt = time.Time{}
		}
	}
}

// work runs one change; ECONFLICT when the incident is not resolved and
// the change needs it.
func (s *Service) work(ctx context.Context, id string, by By, c dedupe.WorkChange) (dedupe.WorkResult, error) {
	c.Actor, c.RequestID, c.Now = by.Actor, by.RequestID, s.now()
	result, status, err := s.store.Work(ctx, id, c)
	if err != nil {
		return "", err
	}
	if result == dedupe.WorkConflict {
		return "", alertgate.Errorf(alertgate.ECONFLICT, "incident %s is %s: resolve it before finishing its postmortem", id, status)
	}
	if result == dedupe.WorkDone {
		s.logger.Info("incident "+c.Entry.Type, "incident_id", id, "actor", by.Actor)
	}
	return result, nil
}

// GetWork returns one incident with the postmortem rule applied.
func (s *Service) GetWork(ctx context.Context, id string, rules *config.Postmortems) (*alertgate.Incident, error) {
	inc, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	ApplyPostmortemRule(inc, rules, s.now())
	return inc, nil
}

// ApplyPostmortemRule completes inc.Postmortem with the rule that requires
// one (computed when asked, not stored: a rule changed in the config
// applies to every incident at once): an incident the rule matches and
// nobody started a postmortem for has one "required", due the rule's due
// time after the resolve (no due time before it resolves). Overdue is
// computed as of now.
func ApplyPostmortemRule(inc *alertgate.Incident, rules *config.Postmortems, now time.Time) {
	if rules != nil {
		if r, name, ok := rules.Rule(inc.Severity, inc.Service); ok {
			if inc.Postmortem == nil {
				inc.Postmortem = &alertgate.PostmortemState{PostmortemEntry: alertgate.PostmortemEntry{Status: alertgate.PostmortemRequired}}
			}
			inc.Postmortem.Rule = name
			if inc.Postmortem.Due.IsZero() && !inc.ResolvedAt.IsZero() {
				inc.Postmortem.Due = inc.ResolvedAt.Add(r.Due).UTC()
			}
		}
	}
	if pm := inc.Postmortem; pm != nil {
		pm.Overdue = pm.Status != alertgate.PostmortemDone && !pm.Due.IsZero() && now.After(pm.Due)
	}
}

func internalError(err error) error {
	return &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error", Err: err}
}
