package config

import (
	"strings"
	"testing"
)

func TestNotifierReplies(t *testing.T) {
	const twilio = `
notifiers:
  - id: sms
    type: twilio
    account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: secret
    from: "+15005550006"
`
	for _, tc := range []struct {
		extra string
		want  bool
	}{
		{"", true},
		{"    replies: true\n", true},
		{"    replies: false\n", false},
	} {
		cfg, err := Load([]byte(twilio+tc.extra), "test.yaml")
		if err != nil {
			t.Fatalf("%q: %v", tc.extra, err)
		}
		if got := cfg.Notifiers[0].RepliesOn(); got != tc.want {
			t.Errorf("%q: RepliesOn = %v, want %v", tc.extra, got, tc.want)
		}
	}

	_, err := Load([]byte(`
notifiers:
  - id: chat
    type: slack
    url: https://hooks.slack.com/services/T/B/x
    replies: false
`), "test.yaml")
	if err == nil || !strings.Contains(err.Error(), "test.yaml:6: notifiers[0].replies: only a twilio notifier takes SMS replies") {
		t.Errorf("replies on slack: %v", err)
	}
	if (&Notifier{Type: NotifierSlack}).RepliesOn() {
		t.Error("a slack notifier takes replies")
	}
}
