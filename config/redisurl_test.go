package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseRedisURL(t *testing.T) {
	type want struct {
		addrs      []string
		user, pass string
		db         int
		master     string
		cluster    bool
		tls        bool
		serverName string
		skipVerify bool
		poolSize   int
		dial       time.Duration
	}
	tests := []struct {
		url  string
		want want
	}{
		{"redis://localhost:6379", want{addrs: []string{"localhost:6379"}}},
		{"redis://localhost", want{addrs: []string{"localhost:6379"}}},
		{"redis://127.0.0.1:6380/3", want{addrs: []string{"127.0.0.1:6380"}, db: 3}},
		{"redis://:s3cret@redis:6379/0", want{addrs: []string{"redis:6379"}, pass: "s3cret"}},
		{"redis://app:p%40ss%2Fw@redis:6379", want{addrs: []string{"redis:6379"}, user: "app", pass: "p@ss/w"}},
		{"redis://[::1]:6379", want{addrs: []string{"[::1]:6379"}}},
		{"rediss://redis.example.com:6380/1", want{addrs: []string{"redis.example.com:6380"}, db: 1, tls: true, serverName: "redis.example.com"}},
		{"rediss://redis:6380?skip_verify=true", want{addrs: []string{"redis:6380"}, tls: true, serverName: "redis", skipVerify: true}},
		{"redis://redis:6379?pool_size=20&dial_timeout=2s", want{addrs: []string{"redis:6379"}, poolSize: 20, dial: 2 * time.Second}},
		{
			"redis+sentinel://:s3cret@s1:26379,s2:26380,s3/mymaster/2",
			want{addrs: []string{"s1:26379", "s2:26380", "s3:26379"}, pass: "s3cret", master: "mymaster", db: 2},
		},
		{
			"redis+sentinel://s1,[::1]:5000/mymaster",
			want{addrs: []string{"s1:26379", "[::1]:5000"}, master: "mymaster"},
		},
		{
			"rediss+sentinel://u:p@s1:26379/m?skip_verify=true",
			want{addrs: []string{"s1:26379"}, user: "u", pass: "p", master: "m", tls: true, skipVerify: true},
		},
		{
			"redis+cluster://app:pa%3Ass@n1:7000,n2:7001,n3",
			want{addrs: []string{"n1:7000", "n2:7001", "n3:6379"}, user: "app", pass: "pa:ss", cluster: true},
		},
		{
			"redis+cluster://n1:7000/?pool_size=5",
			want{addrs: []string{"n1:7000"}, cluster: true, poolSize: 5},
		},
		{
			"rediss+cluster://n1:7000,n2:7000",
			want{addrs: []string{"n1:7000", "n2:7000"}, cluster: true, tls: true},
		},
	}
	for _, tt := range tests {
		o, err := ParseRedisURL(tt.url)
		if err != nil {
			t.Errorf("ParseRedisURL(%q): %v", tt.url, err)
			continue
		}
		got := want{
			addrs: o.Addrs, user: o.Username, pass: o.Password, db: o.DB,
			master: o.MasterName, cluster: o.IsClusterMode, tls: o.TLSConfig != nil,
			poolSize: o.PoolSize, dial: o.DialTimeout,
		}
		if o.TLSConfig != nil {
			got.serverName = o.TLSConfig.ServerName
			got.skipVerify = o.TLSConfig.InsecureSkipVerify
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseRedisURL(%q) =\n%+v\nwant\n%+v", tt.url, got, tt.want)
		}
	}
}

func TestParseRedisURLErrors(t *testing.T) {
	// Every URL carries the password "s3cret" where possible; no error may
	// show it, or any part of it.
	tests := []struct{ url, want string }{
		{"localhost:6379", "missing scheme"},
		{"s3cret", "missing scheme"},
		{"http://localhost", `unsupported scheme "http"`},
		{"unix:///tmp/redis.sock", `unsupported scheme "unix"`},
		{"redis://:s3cret@redis:6379/x", `invalid database number: "x"`},
		{"redis://:s3cret@redis:port", `invalid port ":port"`},
		{"redis://:s3c/ret@redis:6379", "percent-encode"},
		{"redis://:s3c?ret@redis:6379", "percent-encode"},
		{"redis://:s3c#ret@redis:6379", "percent-encode"},
		{"redis://:s3c%zzret@redis:6379", "percent-encode"},
		{"redis://:123/s3cret@redis:6379", "percent-encode"},
		{"redis://:s3cret@redis:6379?nope=1", "unexpected option: nope"},
		{"redis+sentinel://:s3cret@s1:26379", "missing master name"},
		{"redis+sentinel://:s3cret@s1:26379/m/x", `invalid database number "x"`},
		{"redis+sentinel://:s3cret@s1:26379/m/1/2", "too many path segments"},
		{"redis+sentinel://:s3c%zzret@s1/m", "percent-encode"},
		{"redis+sentinel://:s3cret@s1,,s2/m", "empty host"},
		{"redis+sentinel://:s3cret@s1:0/m", `invalid port in "s1:0"`},
		{"redis+sentinel://:s3cret@s1:99999/m", `invalid port in "s1:99999"`},
		{"redis+sentinel://:s3cret@s 1/m", `invalid host "s 1"`},
		{"redis+sentinel://:s3cret@[zz]:1/m", `invalid host "[zz]:1"`},
		{"redis+cluster://:s3cret@n1:7000/1", "takes no path or database"},
		{"redis+cluster://:s3cret@n1:7000?db=1", "takes no path or database"},
		{"redis+cluster://:s3cret@n1:7000#frag", `unexpected "#"`},
		{"redis+cluster://:s3cret@n1:7000?pool_size=many", "invalid pool_size number"},
	}
	for _, tt := range tests {
		_, err := ParseRedisURL(tt.url)
		if err == nil {
			t.Errorf("ParseRedisURL(%q) succeeded, want an error", tt.url)
			continue
		}
		got := err.Error()
		if !strings.Contains(got, tt.want) {
			t.Errorf("ParseRedisURL(%q) error = %q, want it to contain %q", tt.url, got, tt.want)
		}
		for _, part := range []string{"s3c", "ret"} {
			if strings.Contains(got, part) {
				t.Errorf("ParseRedisURL(%q) error %q shows the password", tt.url, got)
			}
		}
	}
}

func TestRedisOptions(t *testing.T) {
	r := Redis{URL: "redis://redis:6379?read_timeout=10s", Timeout: 2 * time.Second}
	o, err := r.Options()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.DialTimeout, 2*time.Second; got != want {
		t.Errorf("DialTimeout = %v, want %v (from timeout)", got, want)
	}
	if got, want := o.WriteTimeout, 2*time.Second; got != want {
		t.Errorf("WriteTimeout = %v, want %v (from timeout)", got, want)
	}
	if got, want := o.ReadTimeout, 10*time.Second; got != want {
		t.Errorf("ReadTimeout = %v, want %v (the URL wins)", got, want)
	}
}
