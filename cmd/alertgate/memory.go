package main

import (
	"fmt"
	"os"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// The soft memory limit alertgate gives the Go runtime when GOMEMLIMIT is
// unset.
//
// Why one at all: serve sets GOGC=400, so the heap may grow to five times
// the live heap before a collection. With the usual live heap of ten
// megabytes that is nothing; but during a burst (a thousand connections,
// megabyte bodies) the live heap grows, five times it can pass the
// container's memory, and the kernel's OOM killer takes every in-flight
// delivery with it. A soft limit makes the collector work harder as the
// heap nears it instead of letting garbage pile up. It is soft: a live heap
// that really needs more gets it (the runtime caps the collector's CPU),
// the process slows down rather than dies.
//
// Why 80% of a cgroup's limit: GOMEMLIMIT counts only what the Go runtime
// manages, while the cgroup also charges the binary's pages, the page cache
// and the kernel's socket buffers of up to httpapi.DefaultMaxConns
// connections; a fifth of the limit (100 MiB of 512 MiB) covers them. The
// tightest limit of the process's cgroup and its parents counts (a systemd
// slice can limit a service from above).
//
// Why 512 MiB without a cgroup limit: about fifteen times alertgate's
// resident memory under a storm of 100,000 alerts (33 MB), so real load
// never meets it, while a burst of garbage is collected long before it
// costs gigabytes. GOMEMLIMIT overrides all of this (GOMEMLIMIT=off: no
// limit).
const (
	fallbackMemoryLimit = 512 << 20
	cgroupRoot          = "/sys/fs/cgroup"
	// cgroupUnlimited: limits at or above it mean none (cgroup v1 writes
	// "no limit" as MaxInt64 rounded down to a page).
	cgroupUnlimited = 1 << 60
)

// setDefaultMemoryLimit sets the soft memory limit described above when
// GOMEMLIMIT is unset (the runtime has applied GOMEMLIMIT itself when it
// is set). It returns the limit it set and where it came from, for the
// start-up log, or 0 and "" when it left the runtime alone.
func setDefaultMemoryLimit(getenv func(string) string) (limit int64, source string) {
	limit, source = defaultMemoryLimit(getenv, os.ReadFile)
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return limit, source
}

// defaultMemoryLimit decides the limit; readFile reads /proc and /sys.
func defaultMemoryLimit(getenv func(string) string, readFile func(string) ([]byte, error)) (limit int64, source string) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, ""
	}
	if cg, file, ok := cgroupMemoryLimit(readFile); ok {
		return cg / 5 * 4, fmt.Sprintf("80%% of the cgroup memory limit of %d bytes (%s)", cg, file)
	}
	return fallbackMemoryLimit, "default, no cgroup memory limit found"
}

// cgroupMemoryLimit returns the tightest memory limit of the process's
// cgroup and its ancestors, cgroup v2 or v1, and the file that set it.
func cgroupMemoryLimit(readFile func(string) ([]byte, error)) (limit int64, file string, ok bool) {
	var files []string
	if data, err := readFile("/proc/self/cgroup"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			// hierarchy-ID:controllers:path; v2 is "0::/path".
			parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
			if len(parts) != 3 {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				files = append(files, upFrom(cgroupRoot, parts[2], "memory.max")...)
			case slices.Contains(strings.Split(parts[1], ","), "memory"):
				files = append(files, upFrom(cgroupRoot+"/memory", parts[2], "memory.limit_in_bytes")...)
			}
		}
	}
	if len(files) == 0 {
		files = []string{cgroupRoot + "/memory.max", cgroupRoot + "/memory/memory.limit_in_bytes"}
	}
	for _, f := range files {
		data, err := readFile(f)
		if err != nil {
			continue // not there: another cgroup version, or a path this namespace cannot see
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil || v <= 0 || v >= cgroupUnlimited {
			continue // "max" (v2's none), or v1's none
		}
		if !ok || v < limit {
			limit, file, ok = v, f, true
		}
	}
	return limit, file, ok
}

// upFrom lists root/cgroup/file and the same file in every ancestor up to
// root/file. The ancestors matter twice: a parent's limit binds its
// children, and a container without its own cgroup namespace sees the
// host's path in /proc/self/cgroup but has its own cgroup mounted at the
// root.
func upFrom(root, cgroup, file string) []string {
	dir := path.Clean("/" + cgroup)
	var out []string
	for {
		out = append(out, path.Join(root, dir, file))
		if dir == "/" {
			return out
		}
		dir = path.Dir(dir)
	}
}
