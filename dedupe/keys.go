package dedupe

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Shards is how many hash tags alertgate's state is spread over. Every key
// of one group and its incidents carries the same tag, so each Lua script
// touches one Redis Cluster slot; sixteen tags spread the load over a
// cluster's masters. The number is part of the v1 key scheme: changing it
// would move groups, so it changes only with the key version.
const Shards = 16

// keyVersion is bumped whenever the layout below changes incompatibly.
const keyVersion = "v1"

// This file is the only place Redis keys are built. Layout, with
// B = <prefix>:v1:{s<shard>}: (the braces are the hash tag):
//
//	B seq                       counter for incident ids of the shard
//	B group:<ghash>             hash: open, last (incident ids)
//	B inc:<id>                  hash: the incident's fields
//	B inc:<id>:alerts           hash: alert key → alert JSON
//	B inc:<id>:ameta            hash: alert key → "status|first|last|count|digest"
//	B inc:<id>:timeline         list of timeline entry JSON
//	B incidents                 zset: incident id by triggered_at (ms)
//	B status:<status>           zset: incident id by triggered_at, one per status
//	B alertidx                  hash: alert key → incident id (PagerDuty acks)
//
// Lua scripts get B and derive the incident keys from it, so the incident
// id needs no lookup table.

// base returns the key prefix of one shard, hash tag included.
func base(prefix string, shard int) string {
	return prefix + ":" + keyVersion + ":{s" + strconv.Itoa(shard) + "}:"
}

// groupHash names a group: route and group key are hashed so that no
// label value (with '{', ':' or newlines in it) can shape a key.
func groupHash(route, groupKey string) (hash string, shard int) {
	sum := sha256.Sum256([]byte(route + "\x00" + groupKey))
	return hex.EncodeToString(sum[:16]), int(sum[0]) % Shards
}

// alertShard picks the shard of the alert index entry for one alert key.
func alertShard(alertKey string) int {
	sum := sha256.Sum256([]byte(alertKey))
	return int(sum[0]) % Shards
}

// incidentShard recovers the shard from an incident id (id = seq*Shards + shard).
func incidentShard(id string) (int, bool) {
	n, err := strconv.ParseUint(id, 10, 63)
	if err != nil || n == 0 || id[0] == '0' {
		return 0, false
	}
	return int(n % Shards), true
}

func incidentKey(b, id string) string  { return b + "inc:" + id }
func alertsKey(b, id string) string    { return b + "inc:" + id + ":alerts" }
func alertMetaKey(b, id string) string { return b + "inc:" + id + ":ameta" }
func timelineKey(b, id string) string  { return b + "inc:" + id + ":timeline" }
func indexKey(b string) string         { return b + "incidents" }
func statusKey(b, status string) string {
	return b + "status:" + status
}
func alertIndexKey(b string) string { return b + "alertidx" }
