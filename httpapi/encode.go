package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/alertgate/alertgate"
)

// statusOf maps error codes to HTTP statuses; the only place that does.
var statusOf = map[string]int{
	alertgate.EINVALID:      http.StatusBadRequest,
	alertgate.EUNAUTHORIZED: http.StatusUnauthorized,
	alertgate.ENOTFOUND:     http.StatusNotFound,
	alertgate.EMETHOD:       http.StatusMethodNotAllowed,
	alertgate.ECONFLICT:     http.StatusConflict,
	alertgate.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	alertgate.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	alertgate.EUNAVAILABLE:  http.StatusServiceUnavailable,
	alertgate.EINCOMPLETE:   http.StatusServiceUnavailable,
	alertgate.EINTERNAL:     http.StatusInternalServerError,
}

// errorBody is what every error response carries.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// HTTPStatus returns the status for err.
func HTTPStatus(err error) int {
	if s, ok := statusOf[alertgate.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeError answers with err's status and a JSON body naming the problem.
// 503s carry Retry-After so senders come back. It returns the status.
func writeError(w http.ResponseWriter, err error, retryAfter time.Duration) int {
	status := HTTPStatus(err)
	d := errorDetail{Code: alertgate.ErrorCode(err), Message: alertgate.ErrorMessage(err)}
	var e *alertgate.Error
	if errors.As(err, &e) {
		d.Field = e.Field
	}
	switch status {
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds(retryAfter))
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="alertgate"`)
	}
	encode(w, status, errorBody{Error: d})
	return status
}

func retryAfterSeconds(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return strconv.Itoa(max(s, 1))
}

// encode writes v as JSON; headers are set before WriteHeader.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// logLevel is the level a failed request is logged at: a client's mistake
// is a warning (an alert was refused: the operator should see it), our
// own failure an error.
func logLevel(status int) slog.Level {
	if status >= 500 && status != http.StatusServiceUnavailable {
		return slog.LevelError
	}
	return slog.LevelWarn
}
