package config

import "time"

// Retention says how long resolved incidents are kept whole.
type Retention struct {
	// KeepResolved: an incident resolved longer ago than this is reduced
	// to what reports count (docs/retention.md): its timeline keeps the
	// entries reports read, its alerts the first to start; its payloads,
	// notes and delivery records go. Default 2160h (90 days).
	KeepResolved time.Duration `yaml:"keep_resolved"`
}

// DefaultKeepResolved is how long resolved incidents stay whole.
const DefaultKeepResolved = 90 * 24 * time.Hour

func (c *Config) validateRetention(ps *problems) {
	if c.Retention.KeepResolved < 24*time.Hour {
		ps.add("retention.keep_resolved", "must be at least 24h (default %v): export incidents before they are reduced", DefaultKeepResolved)
	}
}
