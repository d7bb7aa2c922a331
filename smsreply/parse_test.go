package smsreply

import (
	"testing"

	"github.com/alertgate/alertgate/dedupe"
)

func TestParseReply(t *testing.T) {
	ack, res := dedupe.Acknowledge, dedupe.Resolve
	for _, tc := range []struct {
		in   string
		want Reply
		ok   bool
	}{
		{"1a", Reply{Code: "1", Action: ack}, true},
		{"1 a", Reply{Code: "1", Action: ack}, true},
		{"1A", Reply{Code: "1", Action: ack}, true},
		{" 1r ", Reply{Code: "1", Action: res}, true},
		{"\t12R\n", Reply{Code: "12", Action: res}, true},
		{"99a", Reply{Code: "99", Action: ack}, true},
		{"1 ack", Reply{Code: "1", Action: ack}, true},
		{"1 Resolve", Reply{Code: "1", Action: res}, true},
		{"ack 1", Reply{Code: "1", Action: ack}, true},
		{"resolve 1", Reply{Code: "1", Action: res}, true},
		{"Acknowledge 7.", Reply{Code: "7", Action: ack}, true},
		{"r1", Reply{Code: "1", Action: res}, true},
		{"#3a", Reply{Code: "3", Action: ack}, true},
		{"ack #3", Reply{Code: "3", Action: ack}, true},
		{"1a!", Reply{Code: "1", Action: ack}, true},
		{"a", Reply{Action: ack}, true},
		{"R", Reply{Action: res}, true},
		{"resolved", Reply{Action: res}, true},
		{"1", Reply{Code: "1"}, true},
		{"STOP", Reply{Keyword: true}, true},
		{"help", Reply{Keyword: true}, true},
		{"Start", Reply{Keyword: true}, true},

		{"", Reply{}, false},
		{"   ", Reply{}, false},
		{"0a", Reply{}, false},
		{"01a", Reply{}, false},
		{"100a", Reply{}, false},
		{"1x", Reply{}, false},
		{"1ab", Reply{}, false},
		{"1a2", Reply{}, false},
		{"a 1 2", Reply{}, false},
		{"ack 1 r", Reply{}, false},
		{"hello", Reply{}, false},
		{"thanks, on it", Reply{}, false},
		{"１a", Reply{}, false}, // a full-width digit is not a code
		{"1a\x00", Reply{}, false},
		{"\xff", Reply{}, false},
	} {
		got, ok := ParseReply(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseReply(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"1a", "ack 12", "a", "STOP", "#3 r", "99R", "", "\xff", "1" + string(rune(0x10ffff))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := ParseReply(s)
		if !ok {
			if r != (Reply{}) {
				t.Fatalf("ParseReply(%q) failed but returned %+v", s, r)
			}
			return
		}
		if r.Code != "" && !validCode(r.Code) {
			t.Fatalf("ParseReply(%q) code %q", s, r.Code)
		}
		if r.Action != "" && r.Action != dedupe.Acknowledge && r.Action != dedupe.Resolve {
			t.Fatalf("ParseReply(%q) action %q", s, r.Action)
		}
		if r.Keyword && (r.Code != "" || r.Action != "") {
			t.Fatalf("ParseReply(%q) = %+v", s, r)
		}
	})
}
