package alertgate

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status code, in one table;
// everything else returns errors carrying one of these codes.
const (
	EINVALID      = "invalid"      // the input can never succeed: 400
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials: 401
	ENOTFOUND     = "not_found"    // 404
	ECONFLICT     = "conflict"     // a transition that the current state forbids: 409
	ETOOLARGE     = "too_large"    // body over the limit: 413
	EUNAVAILABLE  = "unavailable"  // a dependency (Redis) is down: 503, retry
	EINTERNAL     = "internal"     // our bug: 500
	EMETHOD       = "method"       // 405
	EUNSUPPORTED  = "unsupported"  // unsupported media type: 415
	// EINCOMPLETE: the request body could not be read whole (the client
	// stalled past the read timeout or hung up). Nothing is wrong with the
	// input we never got, so it is not EINVALID: 503, a sender still
	// listening retries.
	EINCOMPLETE = "incomplete"
)

// Error is an error with a code and a message safe to show the client.
type Error struct {
	Code    string
	Message string
	// Field names the offending input field, when there is one.
	Field string
	// Err is the underlying cause, for logs; never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error naming the offending field.
func FieldErrorf(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EINVALID, Field: field, Message: field + ": " + msg}
}

// Unavailable wraps a dependency failure so callers answer 503.
func Unavailable(msg string, err error) *Error {
	return &Error{Code: EUNAVAILABLE, Message: msg, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: an *Error's Message,
// or a generic text for anything else.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
