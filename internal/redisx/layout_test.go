package redisx

import (
	"fmt"
	"strings"
	"testing"
)

// hashTag is what Redis Cluster hashes: the text inside the first {…}.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

// Every key one script touches must hash to one slot, whatever the route
// and group key contain, or the script fails with CROSSSLOT on a cluster.
func TestKeysOfAGroupShareOneSlot(t *testing.T) {
	l := NewLayout("prefix:with:colons")
	for i, groupKey := range []string{"", "{}:{alertname=\"X\"}", "}{", "a:b", "\r\n{s1}", strings.Repeat("x", 300)} {
		ghash, n := GroupShard(fmt.Sprintf("route-%d", i), groupKey)
		s := l.Shard(n)
		id := fmt.Sprint(7*Shards + n)
		var keys []string
		for _, f := range Families {
			if f.HasID() {
				keys = append(keys, s.KeyOf(f, id), s.KeyOf(f, ghash), s.KeyOf(f, "{x}"))
			} else {
				keys = append(keys, s.Key(f))
			}
		}
		want := hashTag(keys[0])
		if want != fmt.Sprintf("s%d", n) {
			t.Fatalf("tag %q, want s%d", want, n)
		}
		for _, k := range keys {
			if got := hashTag(k); got != want {
				t.Fatalf("group key %q: %s has tag %q, want %q", groupKey, k, got, want)
			}
		}
		if got, ok := IncidentShard(id); !ok || got != n {
			t.Fatalf("IncidentShard(%s) = %d, %v; want %d", id, got, ok, n)
		}
	}
}

func TestKeyNames(t *testing.T) {
	s := NewLayout("ag").Shard(3)
	for _, c := range []struct{ got, want string }{
		{s.Key(Seq), "ag:v1:{s3}:seq"},
		{s.KeyOf(Group, "abc"), "ag:v1:{s3}:group:abc"},
		{s.KeyOf(Incident, "19"), "ag:v1:{s3}:inc:19"},
		{s.KeyOf(IncidentAlerts, "19"), "ag:v1:{s3}:inc:19:alerts"},
		{s.KeyOf(AlertMeta, "19"), "ag:v1:{s3}:inc:19:ameta"},
		{s.KeyOf(Timeline, "19"), "ag:v1:{s3}:inc:19:timeline"},
		{s.Key(Incidents), "ag:v1:{s3}:incidents"},
		{s.KeyOf(Status, "triggered"), "ag:v1:{s3}:status:triggered"},
		{s.Key(AlertIndex), "ag:v1:{s3}:alertidx"},
		{s.Key(Due), "ag:v1:{s3}:due"},
		{s.Key(Outbox), "ag:v1:{s3}:outbox"},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
	names := map[string]bool{}
	for _, f := range Families {
		if names[f.Name()] {
			t.Errorf("two families named %q", f.Name())
		}
		names[f.Name()] = true
	}
}

func TestShardsAreSpread(t *testing.T) {
	seen := map[int]int{}
	for i := range 1600 {
		_, shard := GroupShard("r", fmt.Sprint(i))
		seen[shard]++
	}
	if len(seen) != Shards {
		t.Fatalf("1600 groups used %d of %d shards", len(seen), Shards)
	}
	for s, n := range seen {
		if n < 50 {
			t.Errorf("shard %d got only %d of 1600 groups", s, n)
		}
	}
}

func TestIncidentShardRejectsNonIDs(t *testing.T) {
	for _, id := range []string{"", "0", "-16", "abc", "016", "1e3", "99999999999999999999"} {
		if _, ok := IncidentShard(id); ok {
			t.Errorf("IncidentShard(%q) accepted a non-id", id)
		}
	}
}
