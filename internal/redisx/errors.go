package redisx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
)

// transientPrefixes are the error replies of a Redis that is busy, starting
// or failing over: the same command can succeed a moment later.
var transientPrefixes = []string{
	"LOADING",     // loading its dataset after a restart
	"BUSY",        // another script is running past busy-reply-threshold
	"MASTERDOWN",  // a replica lost its master
	"READONLY",    // talking to a demoted master during failover
	"CLUSTERDOWN", // the cluster lost slots
	"TRYAGAIN",    // a multi-key command during resharding
	"NOREPLICAS",  // min-replicas-to-write not met
	"MOVED",       // a cluster slot moved (alertgate does not follow: see cmd/alertgate)
	"ASK",         // a cluster slot is migrating
	"OOM",         // maxmemory reached under noeviction: writes fail until memory frees
	"ERR max number of clients reached",
}

// Transient reports whether err, returned by a Redis command, means Redis
// could not be reached or could not answer now: connection failures,
// timeouts, a closed client, and the error replies of a loading, busy or
// failing-over server. Everything else (a script error, a wrong type, a
// command we got wrong) is our bug and will fail again the same way.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		for _, p := range transientPrefixes {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted):
		return true
	}
	return false
}

// Wrap classifies a Redis failure of op ("dedupe: ingest", …): a transient
// one becomes EUNAVAILABLE (503 with Retry-After: the sender comes back),
// anything else EINTERNAL (500, logged at ERROR: an operator must look).
// The cause stays in the chain for logs; clients see only the message.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	cause := fmt.Errorf("%s: %w", op, err)
	if Transient(err) {
		return alertgate.Unavailable("redis unavailable", cause)
	}
	return &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error", Err: cause}
}
