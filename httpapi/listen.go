package httpapi

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits of the HTTP server. Together they bound what unauthenticated
// clients can make alertgate hold in memory: headers are read before any
// token is checked, so without them 400 connections each sending a
// megabyte of headers and stalling took the process from 15 MB to 1.9 GB.
const (
	// MaxHeaderBytes caps a request's headers (Go's server reads up to
	// 4 KiB past it, then answers 431). Alertmanager, Grafana, Datadog and
	// PagerDuty clients send well under 4 KiB; 64 KiB leaves room for any
	// proxy's additions.
	MaxHeaderBytes = 64 << 10

	// DefaultMaxConns caps the connections open at once. Every sender keeps
	// a few connections (Alertmanager one per receiver, more while
	// retrying), so a thousand serves hundreds of senders, while the
	// memory of that many connections stalled mid-header stays around
	// 1024 × (MaxHeaderBytes + buffers), a few hundred megabytes at worst.
	// Connections beyond it wait in the kernel's accept queue, unread,
	// until one closes.
	DefaultMaxConns = 1024

	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout bound
	// how long a connection may hold its slot: a client that stalls
	// mid-header is cut off after ReadHeaderTimeout, mid-body after
	// ReadTimeout (a 503, see readBody).
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 60 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
)

// NewHTTPServer returns the server for h with every limit above. The
// server's own complaints (TLS handshakes, accept errors, panics that
// escape h) go to logger at WARN.
func NewHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Listen listens on the TCP address addr and keeps at most maxConns
// connections open at once (DefaultMaxConns when maxConns <= 0); see
// LimitListener.
func Listen(addr string, maxConns int) (net.Listener, error) {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return LimitListener(ln, maxConns), nil
}

// LimitListener returns a listener that keeps at most n of ln's
// connections open at once (n >= 1). Accept waits while n are open, so a
// further connection stays in the kernel's accept queue, where it costs
// alertgate nothing, until one of them is closed; closing the listener
// ends the wait. Waiting rather than refusing means a burst of senders is
// served late rather than failed.
func LimitListener(ln net.Listener, n int) net.Listener {
	if n < 1 {
		panic(fmt.Sprintf("httpapi: LimitListener with n = %d", n))
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{} // one element per open connection
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.closed) })
	return err
}

// limitConn gives its slot back when closed, once however often Close is
// called.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite passes a half-close on: net/http half-closes before it hangs
// up on a request it refused (431, 413), so the client reads the answer
// instead of a connection reset.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
