package lifecycle

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// HTTPServer is the component that serves srv on ln. Run is srv.Serve(ln);
// Stop is srv.Shutdown: no new connections, in-flight requests finish,
// within stopTimeout, after which the connections still open are closed.
// Put it last, so it stops first: requests in flight still find everything
// they use running.
func HTTPServer(name string, srv *http.Server, ln net.Listener, stopTimeout time.Duration) Component {
	return Component{
		Name: name,
		Run: func(context.Context) error {
			err := srv.Serve(ln)
			if errors.Is(err, http.ErrServerClosed) {
				// Shut down: after Stop this is the expected end; before
				// it, someone else closed the server, an exit like any.
				return nil
			}
			return err
		},
		Stop: func(ctx context.Context) error {
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close()
				return err
			}
			return nil
		},
		StopTimeout: stopTimeout,
	}
}
