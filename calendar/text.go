package calendar

import (
	"strings"
	"unicode/utf8"
)

// maxLine is the longest content line RFC 5545 allows, in octets, CRLF
// not counted.
const maxLine = 75

// escapeText escapes s as an RFC 5545 TEXT value: backslash, semicolon
// and comma get a backslash, every line break becomes "\n". TEXT allows no
// other control character but tab, so those are dropped.
func escapeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ';', ',':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(`\n`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteByte(c)
		default:
			// Bytes of multi-byte UTF-8 sequences are all ≥ 0x80, so
			// testing bytes here never cuts a character.
			if c < 0x20 || c == 0x7f {
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// fold folds a content line into lines of at most maxLine octets, each
// continuation starting with a space (which counts), cutting only between
// UTF-8 characters, and ends every line with CRLF.
func fold(line string) string {
	var b strings.Builder
	b.Grow(len(line) + len(line)/maxLine*3 + 2)
	limit := maxLine
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = maxLine - 1
	}
	b.WriteString(line)
	b.WriteString("\r\n")
	return b.String()
}
