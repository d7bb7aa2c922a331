package heartbeat

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/receivers"
	"github.com/alertgate/alertgate/routing"
	"github.com/alertgate/alertgate/snapshot"
)

var (
	//go:embed ping.lua
	pingSource string
	pingScript = redisx.NewScript("heartbeat: ping", pingSource)

	//go:embed claim.lua
	claimSource string
	claimScript = redisx.NewScript("heartbeat: claim", claimSource)

	//go:embed commit.lua
	commitSource string
	commitScript = redisx.NewScript("heartbeat: commit", commitSource)
)

// Acceptor is the ordinary pipeline (incident.Service).
type Acceptor interface {
	Accept(ctx context.Context, tree *routing.Tree, integration string, b alertgate.Batch, indexAlerts bool) (incident.Accepted, error)
}

// Options configure a Checker.
type Options struct {
	// Snapshot returns the config that serves (it changes on reload; a
	// pass reads it once). Required.
	Snapshot func() *snapshot.Snapshot
	// Accept is the pipeline the alerts go through. Required.
	Accept Acceptor
	Clock  lifecycle.Clock
	// Lease is how long a claimed heartbeat is this checker's alone: a
	// checker that dies holding one delays its alert by at most Lease.
	// Default 30s.
	Lease time.Duration
	// Batch caps the heartbeats claimed per script call. Default 100.
	Batch  int
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultLease = 30 * time.Second
	DefaultBatch = 100
)

// Checker records pings and opens and resolves the incidents of missed
// heartbeats. Any number of replicas run one over one Redis; each miss
// opens one alert, and each recovery resolves it once.
type Checker struct {
	rdb  redis.UniversalClient
	keys keys
	o    Options
}

// New returns a checker of the heartbeats under prefix.
func New(rdb redis.UniversalClient, prefix string, o Options) *Checker {
	if o.Clock == nil {
		o.Clock = lifecycle.RealClock
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{rdb: rdb, keys: newKeys(prefix), o: o}
}

// Check loads the scripts: a start-up check that Redis accepts them.
func (c *Checker) Check(ctx context.Context) error {
	for _, sc := range []*redisx.Script{pingScript, claimScript, commitScript} {
		if err := sc.Load(ctx, c.rdb); err != nil {
			return err
		}
	}
	return nil
}

// Ping records a ping of heartbeat integration in, served by snap. A ping
// after a miss also resolves the miss's alert when this checker can take
// the heartbeat's claim (StatusResolved); when another holds it, or the
// resolve fails, the ping is recorded all the same and the resolve is left
// to the next check (StatusRecovering). An error means the ping was not
// recorded.
func (c *Checker) Ping(ctx context.Context, snap *snapshot.Snapshot, in config.Integration) (PingResult, error) {
	if in.Type != config.TypeHeartbeat {
		return PingResult{}, internal(fmt.Errorf("heartbeat: ping of %q, an integration of type %q", in.Name, in.Type))
	}
	now := c.o.Clock.Now()
	deadline := now.Add(in.HeartbeatTimeout())
	h := header(now).Str("name", in.Name).Int("deadline", deadline.UnixMilli())
	reply, err := pingScript.Run(ctx, c.rdb, []string{c.keys.of(in.Name), c.keys.due}, h)
	if err != nil {
		return PingResult{}, err
	}
	r := pingScript.ReadReply(reply, 2)
	state, due := r.Str(0), r.Int(1)
	if err := r.Err(); err != nil {
		return PingResult{}, err
	}
	res := PingResult{Status: StatusOK, NextDeadline: msTime(deadline.UnixMilli())}
	if state != "recovering" {
		return res, nil
	}
	res.Status = StatusRecovering
	if int64(due) > now.UnixMilli() {
		return res, nil // a checker holds it: its commit schedules the resolve
	}
	_, done, err := c.run(ctx, snap, in.Name)
	switch {
	case err != nil:
		c.o.Logger.Warn("heartbeat: ping recorded, resolve left to the next check", "integration", in.Name, "err", err.Error())
	case done > 0:
		res.Status = StatusResolved
	}
	return res, nil
}

// Pass claims every heartbeat that is due and fires or resolves it. It
// returns the first error met; the heartbeats it could not finish fall due
// again when their lease runs out.
func (c *Checker) Pass(ctx context.Context) error {
	snap := c.o.Snapshot()
	if snap == nil {
		return nil // no config yet
	}
	for {
		n, _, err := c.run(ctx, snap, "")
		if err != nil || n < c.o.Batch {
			return err
		}
	}
}

// run claims up to Batch due heartbeats (only that one, if only is set)
// and works them; it returns how many it claimed and how many of those
// committed.
func (c *Checker) run(ctx context.Context, snap *snapshot.Snapshot, only string) (claimedN, committed int, err error) {
	claims, err := c.claim(ctx, c.o.Clock.Now(), only)
	if err != nil || len(claims) == 0 {
		return 0, 0, err
	}
	committed, err = c.finish(ctx, snap, claims)
	return len(claims), committed, err
}

// claimed is one heartbeat a claim took.
type claimed struct {
	name, token, action string
	missed              string // Unix ms, as stored
}

// Actions of claim.lua and commit.lua.
const (
	actionFire    = "fire"
	actionResolve = "resolve"
	actionDrop    = "drop"
)

const claimWidth = 4

func (c *Checker) claim(ctx context.Context, now time.Time, only string) ([]claimed, error) {
	h := header(now).Str("beat", c.keys.beat).Int("lease_ms", c.o.Lease.Milliseconds()).Int("limit", int64(c.o.Batch))
	if only != "" {
		h.Str("only", only)
	}
	reply, err := claimScript.Run(ctx, c.rdb, []string{c.keys.due}, h)
	if err != nil {
		return nil, err
	}
	if len(reply)%claimWidth != 0 {
		return nil, internal(fmt.Errorf("heartbeat: claim returned %d values", len(reply)))
	}
	r := claimScript.ReadReply(reply, len(reply))
	out := make([]claimed, 0, len(reply)/claimWidth)
	for i := 0; i < len(reply); i += claimWidth {
		out = append(out, claimed{name: r.Str(i), token: r.Str(i + 1), action: r.Str(i + 2), missed: r.Str(i + 3)})
	}
	return out, r.Err()
}

// finish sends each claimed heartbeat's alert through the pipeline and
// commits those that went through, in one script call. A heartbeat whose
// alert failed is not committed: its claim runs out and a checker tries
// again. It returns how many commits went through and the first error.
func (c *Checker) finish(ctx context.Context, snap *snapshot.Snapshot, claims []claimed) (committed int, err error) {
	// The alerts must reach Redis within the lease: past it another
	// checker may take the heartbeat over and send its own.
	actx, cancel := context.WithTimeout(ctx, c.o.Lease/2)
	defer cancel()
	var firstErr error
	args := make([]any, 0, len(claims)*claimWidth)
	done := make([]claimed, 0, len(claims))
	for _, cl := range claims {
		if err := c.send(actx, snap, &cl); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		args = append(args, cl.name, cl.token, cl.action, cl.missed)
		done = append(done, cl)
	}
	if len(done) == 0 {
		return 0, firstErr
	}
	// A commit refused is no error: the lease ran out and another checker
	// holds the heartbeat now; what this one sent was the same alert.
	reply, err := commitScript.Run(ctx, c.rdb, []string{c.keys.due}, header(c.o.Clock.Now()).Str("beat", c.keys.beat), args...)
	if err != nil {
		return 0, errors.Join(firstErr, err)
	}
	r := commitScript.ReadReply(reply, len(done))
	for i, cl := range done {
		result := r.Str(i)
		if r.Err() != nil {
			break
		}
		if result != "committed" {
			c.o.Logger.Debug("heartbeat: commit refused", "integration", cl.name, "action", cl.action)
			continue
		}
		committed++
	}
	if err := r.Err(); err != nil {
		return committed, errors.Join(firstErr, err)
	}
	return committed, firstErr
}

// send sends one claimed heartbeat's alert through the pipeline; a
// heartbeat the config no longer has becomes a drop.
func (c *Checker) send(ctx context.Context, snap *snapshot.Snapshot, cl *claimed) error {
	_, in, ok := snap.Receivers.Get(cl.name)
	if !ok || in.Type != config.TypeHeartbeat {
		c.o.Logger.Info("heartbeat: no longer configured; not watched until configured and pinged again", "integration", cl.name)
		cl.action = actionDrop
		return nil
	}
	ms, err := strconv.ParseInt(cl.missed, 10, 64)
	if err != nil {
		return internal(fmt.Errorf("heartbeat %q: unreadable missed deadline %q", cl.name, cl.missed))
	}
	missed := msTime(ms)
	status := alertgate.Firing
	if cl.action == actionResolve {
		status = alertgate.Resolved
	}
	a, err := receivers.HeartbeatAlert(in, status, missed)
	if err != nil {
		return internal(fmt.Errorf("heartbeat %q: %w", cl.name, err))
	}
	acc, err := c.o.Accept.Accept(ctx, snap.Routes, in.Name, alertgate.Batch{Alerts: []alertgate.Alert{a}}, false)
	if err != nil {
		return err
	}
	if status == alertgate.Firing {
		c.o.Logger.Warn("heartbeat missed", "integration", in.Name, "missed_at", missed, "incidents", acc.Incidents, "repeat", acc.Duplicates > 0)
	} else {
		c.o.Logger.Info("heartbeat back", "integration", in.Name, "missed_at", missed, "incidents", acc.Incidents)
	}
	return nil
}

// header starts a script's named arguments. Heartbeat keys are not in a
// shard, so there is no base; the request id names the claim tokens.
func header(now time.Time) *redisx.Header {
	return redisx.NewObject().Int("now", now.UnixMilli()).Str("req", redisx.RequestID())
}

func internal(err error) error {
	return &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error", Err: err}
}
