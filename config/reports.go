package config

// Reports tunes GET /api/v1/reports (docs/measures.md).
type Reports struct {
	// CountSenderAcks counts a sender's acknowledge (a PagerDuty
	// acknowledge event, actor "integration:…") as the incident's
	// acknowledgement in time to acknowledge. Default false: a sender may
	// acknowledge by rule, with no person behind it, so by default only
	// people's acknowledgements (API, link, SMS reply) count.
	CountSenderAcks bool `yaml:"count_sender_acks"`
}
