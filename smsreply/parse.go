package smsreply

import (
	"strings"

	"github.com/alertgate/alertgate/dedupe"
)

// Reply is what an SMS reply asks for, read by ParseReply.
type Reply struct {
	// Code is the reply code it names ("1"), "" for a bare action ("a").
	Code string
	// Action is what it asks for; "" when it names a code and nothing to
	// do with it ("1").
	Action dedupe.Action
	// Keyword is set for the carrier keywords (STOP, START, HELP, …)
	// that Twilio answers itself: alertgate must not answer them too.
	Keyword bool
}

// MaxCode is the highest reply code: codes are "1" to "99", so a reply
// is at most three characters ("99a").
const MaxCode = 99

// actionWords are the words a reply may use for an action, lower case.
var actionWords = map[string]dedupe.Action{
	"a": dedupe.Acknowledge, "ack": dedupe.Acknowledge, "acknowledge": dedupe.Acknowledge, "acknowledged": dedupe.Acknowledge,
	"r": dedupe.Resolve, "res": dedupe.Resolve, "resolve": dedupe.Resolve, "resolved": dedupe.Resolve,
}

// twilioKeywords are the opt-out, opt-in and help keywords Twilio's
// default Advanced Opt-Out handles (and answers) for a number itself.
var twilioKeywords = map[string]bool{
	"stop": true, "stopall": true, "unsubscribe": true, "cancel": true, "end": true, "quit": true,
	"start": true, "yes": true, "unstop": true, "help": true, "info": true,
}

// ParseReply reads an SMS reply: a code and an action, in either order,
// with or without a space, in any case ("1a", "1 A", " 1r ", "1 ack",
// "ack 1", "resolve 12"), or a bare action ("a", "resolve") for a number
// with one live code. A leading "#" and trailing punctuation are ignored.
// ok is false when the text is none of these.
func ParseReply(body string) (r Reply, ok bool) {
	s := strings.ToLower(strings.Join(strings.Fields(body), " "))
	s = strings.TrimRight(s, ".!?")
	s = strings.TrimPrefix(s, "#")
	if twilioKeywords[s] {
		return Reply{Keyword: true}, true
	}
	digits := strings.IndexFunc(s, isDigit)
	if digits < 0 {
		a, ok := actionWords[s]
		return Reply{Action: a}, ok
	}
	var code, word string
	if digits == 0 {
		// "1a", "1 a", "1"
		end := strings.IndexFunc(s, notDigit)
		if end < 0 {
			end = len(s)
		}
		code, word = s[:end], strings.TrimSpace(s[end:])
	} else {
		// "ack 1", "a1"
		word, code = strings.TrimSpace(s[:digits]), strings.TrimPrefix(s[digits:], "#")
		word = strings.TrimSpace(strings.TrimSuffix(word, "#"))
	}
	if !validCode(code) {
		return Reply{}, false
	}
	if word == "" {
		return Reply{Code: code}, true
	}
	a, ok := actionWords[word]
	if !ok {
		return Reply{}, false
	}
	return Reply{Code: code, Action: a}, true
}

// validCode reports whether s is a code: 1 to MaxCode, no leading zero.
func validCode(s string) bool {
	if s == "" || len(s) > 2 || s[0] == '0' {
		return false
	}
	for i := range len(s) {
		if !isDigit(rune(s[i])) {
			return false
		}
	}
	return true
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func notDigit(r rune) bool { return !isDigit(r) }
