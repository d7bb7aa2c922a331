package redisx

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Header builds a script's named arguments: one JSON object, ARGV[1], which
// the prelude decodes into H. Every header starts with the fields every
// script has (base, now, req, actor); a script adds its own with Str, Int
// and Bool. It is written by hand, without reflection: it is built on
// every delivery.
type Header struct{ buf []byte }

// NewHeader starts the header of a script call on shard at now, for the
// request req (RequestID for a fresh one) by actor.
func NewHeader(shard Shard, now time.Time, req, actor string) *Header {
	h := &Header{buf: make([]byte, 0, 256)}
	h.buf = append(h.buf, '{')
	return h.Str("base", shard.Base()).Int("now", now.UnixMilli()).Str("req", req).Str("actor", actor)
}

// NewObject starts a JSON object of named values without the common
// fields: bulk arguments after the header that a script decodes only when
// it needs them.
func NewObject() *Header {
	h := &Header{buf: make([]byte, 0, 128)}
	h.buf = append(h.buf, '{')
	return h
}

// Str adds a string field.
func (h *Header) Str(name, v string) *Header {
	h.name(name)
	h.buf = appendJSONString(h.buf, v)
	return h
}

// Int adds a number field.
func (h *Header) Int(name string, v int64) *Header {
	h.name(name)
	h.buf = strconv.AppendInt(h.buf, v, 10)
	return h
}

// Bool adds a boolean field.
func (h *Header) Bool(name string, v bool) *Header {
	h.name(name)
	h.buf = strconv.AppendBool(h.buf, v)
	return h
}

// name writes the separator and the field's name: names are the scripts'
// own identifiers, which need no escaping.
func (h *Header) name(name string) {
	if len(h.buf) > 1 {
		h.buf = append(h.buf, ',')
	}
	h.buf = append(h.buf, '"')
	h.buf = append(h.buf, name...)
	h.buf = append(h.buf, '"', ':')
}

// Bytes closes the object and returns it; call it once.
func (h *Header) Bytes() []byte { return append(h.buf, '}') }

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD (cjson
// would refuse it), everything else as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return append(b, '"')
}
