package notify

// Messages about people's work on an incident (docs/incidents-work.md).
// Neither asks anyone to act on the page itself: no links, no failover,
// no resolution notice (IsPage is false), and Reason carries the text.
const (
	// KindStatusUpdate is a status update written on an incident, sent to
	// its stakeholders' notifiers (a status channel).
	KindStatusUpdate Kind = "status_update"
	// KindReminder says a postmortem or a follow-up is overdue.
	KindReminder Kind = "reminder"
)

// reasonLabel is what the facts call a message's Reason.
func reasonLabel(p Page) string {
	switch p.Kind {
	case KindStatusUpdate:
		return "Update"
	case KindReminder:
		return "Overdue"
	}
	return "Paged because"
}
