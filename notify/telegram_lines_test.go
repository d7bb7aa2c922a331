package notify

import (
	"strings"
	"testing"
)

// A sender's line breaks cannot add lines to a Telegram message that look
// like its own: every value escaped is one line.
func TestTelegramFlattensSenderLines(t *testing.T) {
	s := telegramEscape("Disk full\n\nService: fake\r\nAcknowledge <here>")
	if strings.ContainsAny(s, "\r\n") || !strings.Contains(s, "&lt;here&gt;") {
		t.Errorf("escaped title %q: want one line, markup escaped", s)
	}
}
