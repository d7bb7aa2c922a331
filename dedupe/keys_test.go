package dedupe

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
	for i, groupKey := range []string{"", "{}:{alertname=\"X\"}", "}{", "a:b", "\r\n{s1}", strings.Repeat("x", 300)} {
		ghash, shard := groupHash(fmt.Sprintf("route-%d", i), groupKey)
		b := base("prefix:with:colons", shard)
		id := fmt.Sprint(7*Shards + shard)
		keys := []string{
			b + "group:" + ghash, b + "seq", indexKey(b), statusKey(b, "triggered"), statusKey(b, "resolved"),
			incidentKey(b, id), alertsKey(b, id), alertMetaKey(b, id), timelineKey(b, id),
		}
		want := hashTag(keys[0])
		for _, k := range keys {
			if got := hashTag(k); got != want {
				t.Fatalf("group key %q: %s has tag %q, want %q", groupKey, k, got, want)
			}
		}
		if got, ok := incidentShard(id); !ok || got != shard {
			t.Fatalf("incidentShard(%s) = %d, %v; want %d", id, got, ok, shard)
		}
	}
}

func TestShardsAreSpread(t *testing.T) {
	seen := map[int]int{}
	for i := range 1600 {
		_, shard := groupHash("r", fmt.Sprint(i))
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
		if _, ok := incidentShard(id); ok {
			t.Errorf("incidentShard(%q) accepted a non-id", id)
		}
	}
}
