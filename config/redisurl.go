package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ParseRedisURL turns a Redis URL into options for redis.NewUniversalClient:
//
//	redis://[user:password@]host[:port][/db]          one server
//	rediss://…                                          one server over TLS
//	redis+sentinel://[user:password@]host[:port][,host[:port]…]/master[/db]
//	redis+cluster://[user:password@]host[:port][,host[:port]…]
//
// rediss+sentinel:// and rediss+cluster:// are the TLS variants. Sentinel
// ports default to 26379, the others to 6379. The user name and password
// (percent-encoded where needed) authenticate to the Redis servers, not to
// the sentinels. Query parameters are go-redis's own (dial_timeout,
// pool_size, skip_verify, …) and are accepted for every scheme.
//
// Errors never contain the password.
func ParseRedisURL(raw string) (*redis.UniversalOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !isSchemeName(scheme) {
		return nil, errors.New(`missing scheme: want redis://, rediss://, redis+sentinel:// or redis+cluster://`)
	}
	switch strings.ToLower(scheme) {
	case "redis", "rediss":
		return parseSingleRedisURL(raw)
	case "redis+sentinel", "rediss+sentinel":
		return parseMultiRedisURL(strings.ToLower(scheme), rest, false)
	case "redis+cluster", "rediss+cluster":
		return parseMultiRedisURL(strings.ToLower(scheme), rest, true)
	}
	return nil, fmt.Errorf("unsupported scheme %q: want redis, rediss, redis+sentinel or redis+cluster", scheme)
}

// Options parses r.URL with ParseRedisURL and applies r.Timeout to the
// dial, read and write timeouts the URL does not set itself.
func (r Redis) Options() (*redis.UniversalOptions, error) {
	o, err := ParseRedisURL(r.URL.Reveal())
	if err != nil {
		return nil, err
	}
	for _, d := range []*time.Duration{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout} {
		if *d == 0 {
			*d = r.Timeout
		}
	}
	return o, nil
}

func parseSingleRedisURL(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		return nil, urlSyntaxError(raw)
	}
	// A password holding an unescaped '/', '?' or '#' ends the host early
	// and lands the rest of the password in the path, query or fragment,
	// which go-redis would then quote in its errors.
	if u.Fragment != "" || strings.Contains(u.Path, "@") || strings.Contains(u.RawQuery, "@") {
		return nil, errUserinfo
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		return nil, trimRedisPrefix(err)
	}
	return universal(o), nil
}

// parseMultiRedisURL parses the part after "redis+sentinel://" or
// "redis+cluster://". net/url cannot: it wants one host per URL.
func parseMultiRedisURL(scheme, rest string, cluster bool) (*redis.UniversalOptions, error) {
	var user, password string
	// The last '@' ends the user info, so an unescaped '@' or '/' in the
	// password does not end up being parsed (and quoted) as a host.
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		userinfo := rest[:at]
		rest = rest[at+1:]
		u, p, _ := strings.Cut(userinfo, ":")
		var err1, err2 error
		user, err1 = url.PathUnescape(u)
		password, err2 = url.PathUnescape(p)
		if err1 != nil || err2 != nil {
			return nil, errUserinfo
		}
	}
	hostList, tail, _ := cutAny(rest, "/?#")
	pathPart, query, _ := strings.Cut(tail, "?")
	if strings.Contains(tail, "#") {
		return nil, errors.New(`unexpected "#" after the hosts`)
	}

	defaultPort := "6379"
	if !cluster {
		defaultPort = "26379"
	}
	var addrs []string
	for h := range strings.SplitSeq(hostList, ",") {
		addr, err := hostPort(h, defaultPort)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, addr)
	}

	// Let go-redis parse the query, so every scheme accepts the same
	// parameters; the host of this stand-in URL is not used.
	base := "redis"
	if strings.HasPrefix(scheme, "rediss") {
		base = "rediss"
	}
	stand := base + "://" + addrs[0] + "/"
	if query != "" {
		stand += "?" + query
	}
	o, err := redis.ParseURL(stand)
	if err != nil {
		return nil, trimRedisPrefix(err)
	}
	opts := universal(o)
	opts.Addrs = addrs
	opts.Username, opts.Password = user, password
	if opts.TLSConfig != nil {
		// Leave ServerName empty: crypto/tls then takes it from the address
		// each connection dials, and the nodes have different names.
		opts.TLSConfig = &tls.Config{
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: opts.TLSConfig.InsecureSkipVerify, //nolint:gosec // the operator asked for it with skip_verify
		}
	}

	// What is left of the path after the hosts: "/master[/db]" or nothing.
	segs := strings.FieldsFunc(pathPart, func(r rune) bool { return r == '/' })
	if cluster {
		if len(segs) > 0 || opts.DB != 0 {
			return nil, errors.New("a redis+cluster URL takes no path or database: Redis Cluster has only database 0")
		}
		opts.IsClusterMode = true
		return opts, nil
	}
	switch len(segs) {
	case 0:
		return nil, errors.New("missing master name: want redis+sentinel://host:port[,host:port…]/master[/db]")
	case 2:
		db, err := strconv.Atoi(segs[1])
		if err != nil || db < 0 {
			return nil, fmt.Errorf("invalid database number %q", segs[1])
		}
		opts.DB = db
	case 1:
	default:
		return nil, errors.New("too many path segments: want /master[/db]")
	}
	opts.MasterName = segs[0]
	return opts, nil
}

// hostPort checks one "host[:port]" of a host list and adds the default
// port when there is none.
func hostPort(h, defaultPort string) (string, error) {
	if h == "" {
		return "", errors.New("empty host in the host list")
	}
	host, port := h, defaultPort
	if strings.HasPrefix(h, "[") { // IPv6 literal
		if strings.HasSuffix(h, "]") {
			host = h[1 : len(h)-1]
		} else {
			var err error
			if host, port, err = net.SplitHostPort(h); err != nil {
				return "", fmt.Errorf("invalid host %q", h)
			}
		}
		if net.ParseIP(host) == nil {
			return "", fmt.Errorf("invalid host %q", h)
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
	}
	if !strings.HasPrefix(h, "[") && !isHostName(host) {
		return "", fmt.Errorf("invalid host %q", h)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("invalid port in %q", h)
	}
	return net.JoinHostPort(host, port), nil
}

// isHostName accepts DNS names and IPv4 addresses, loosely.
func isHostName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isSchemeName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// cutAny cuts s before the first byte that is in chars.
func cutAny(s, chars string) (before, after string, found bool) {
	if i := strings.IndexAny(s, chars); i >= 0 {
		return s[:i], s[i:], true
	}
	return s, "", false
}

var errUserinfo = errors.New(`invalid user name or password: percent-encode reserved characters ("@", ":", "/", "?", "#", "%")`)

// urlSyntaxError explains why url.Parse rejected raw without quoting the
// password: it parses again with the user info blanked out.
func urlSyntaxError(raw string) error {
	redacted := raw
	if scheme, rest, ok := strings.Cut(raw, "://"); ok {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			redacted = scheme + "://xxxxx@" + rest[at+1:]
		}
	}
	if _, err := url.Parse(redacted); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("invalid URL: %w", ue.Err)
		}
		return errors.New("invalid URL")
	}
	return errUserinfo
}

// trimRedisPrefix drops go-redis's "redis: " prefix: the problem is already
// reported against the redis.url field.
func trimRedisPrefix(err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), "redis: "); ok {
		return errors.New(msg)
	}
	return err
}

// universal copies the parsed single-server options into UniversalOptions.
func universal(o *redis.Options) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:                   []string{o.Addr},
		ClientName:              o.ClientName,
		DB:                      o.DB,
		Protocol:                o.Protocol,
		Username:                o.Username,
		Password:                o.Password,
		MaxRetries:              o.MaxRetries,
		MinRetryBackoff:         o.MinRetryBackoff,
		MaxRetryBackoff:         o.MaxRetryBackoff,
		DialTimeout:             o.DialTimeout,
		ReadTimeout:             o.ReadTimeout,
		WriteTimeout:            o.WriteTimeout,
		PoolFIFO:                o.PoolFIFO,
		PoolSize:                o.PoolSize,
		PoolTimeout:             o.PoolTimeout,
		MinIdleConns:            o.MinIdleConns,
		MaxIdleConns:            o.MaxIdleConns,
		MaxActiveConns:          o.MaxActiveConns,
		MaxConcurrentDials:      o.MaxConcurrentDials,
		PipelinePoolSize:        o.PipelinePoolSize,
		PipelineReadBufferSize:  o.PipelineReadBufferSize,
		PipelineWriteBufferSize: o.PipelineWriteBufferSize,
		ConnMaxIdleTime:         o.ConnMaxIdleTime,
		ConnMaxLifetime:         o.ConnMaxLifetime,
		ConnMaxLifetimeJitter:   o.ConnMaxLifetimeJitter,
		TLSConfig:               o.TLSConfig,
	}
}
