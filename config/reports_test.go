package config

import (
	"strings"
	"testing"
)

func TestReportsCountSenderAcks(t *testing.T) {
	c, err := Load([]byte("api: {tokens: [t]}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Reports.CountSenderAcks {
		t.Error("count_sender_acks defaults to true, want false")
	}
	c, err = Load([]byte("api: {tokens: [t]}\nreports: {count_sender_acks: true}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Reports.CountSenderAcks {
		t.Error("count_sender_acks: true was not read")
	}
	_, err = Load([]byte("api: {tokens: [t]}\nreports: {count_sender_ack: true}\n"), "r.yml")
	if err == nil || !strings.Contains(err.Error(), "count_sender_ack") {
		t.Errorf("a misspelt key: %v, want an error naming it", err)
	}
}
