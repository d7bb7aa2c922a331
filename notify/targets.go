package notify

// RateTarget is what Twilio's rate limit applies to: each sender number
// (a long code sends about one message a second), while the account is
// the breaker's target.
func (t *Twilio) RateTarget() string { return t.Target() + ":" + t.o.From }
