package main

import (
	"io/fs"
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func fakeFiles(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
}

func TestDefaultMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name     string
		env      string
		files    map[string]string
		want     int64
		wantFrom string
	}{
		{"GOMEMLIMIT set", "1GiB", map[string]string{"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/memory.max": "536870912\n"}, 0, ""},
		{"GOMEMLIMIT=off", "off", nil, 0, ""},
		{"no cgroup at all", "", nil, 512 * mib, "default"},
		{"cgroup v2 container", "", map[string]string{
			"/proc/self/cgroup":         "0::/\n",
			"/sys/fs/cgroup/memory.max": "536870912\n",
		}, 512 * mib / 5 * 4, "/sys/fs/cgroup/memory.max"},
		{"cgroup v2 without a limit", "", map[string]string{
			"/proc/self/cgroup":         "0::/\n",
			"/sys/fs/cgroup/memory.max": "max\n",
		}, 512 * mib, "default"},
		{"cgroup v2 systemd service in a limited slice", "", map[string]string{
			"/proc/self/cgroup": "0::/system.slice/alertgate.service\n",
			"/sys/fs/cgroup/system.slice/alertgate.service/memory.max": "max\n",
			"/sys/fs/cgroup/system.slice/memory.max":                   "1073741824\n",
		}, 1024 * mib / 5 * 4, "/sys/fs/cgroup/system.slice/memory.max"},
		{"cgroup v2 service tighter than its slice", "", map[string]string{
			"/proc/self/cgroup": "0::/system.slice/alertgate.service\n",
			"/sys/fs/cgroup/system.slice/alertgate.service/memory.max": "268435456\n",
			"/sys/fs/cgroup/system.slice/memory.max":                   "1073741824\n",
		}, 256 * mib / 5 * 4, "alertgate.service/memory.max"},
		{"cgroup v1 container seeing the host's path", "", map[string]string{
			"/proc/self/cgroup":                           "12:pids:/docker/abc\n4:memory:/docker/abc\n1:cpu,cpuacct:/docker/abc\n0::/\n",
			"/sys/fs/cgroup/memory/memory.limit_in_bytes": "268435456\n",
		}, 256 * mib / 5 * 4, "/sys/fs/cgroup/memory/memory.limit_in_bytes"},
		{"cgroup v1 without a limit", "", map[string]string{
			"/proc/self/cgroup": "4:memory:/process_api/x\n",
			"/sys/fs/cgroup/memory/process_api/x/memory.limit_in_bytes": "9223372036854771712\n",
			"/sys/fs/cgroup/memory/memory.limit_in_bytes":               "9223372036854771712\n",
		}, 512 * mib, "default"},
		{"no /proc/self/cgroup, a limit at the root", "", map[string]string{
			"/sys/fs/cgroup/memory.max": "104857600",
		}, 100 * mib / 5 * 4, "/sys/fs/cgroup/memory.max"},
		{"garbage in memory.max", "", map[string]string{
			"/proc/self/cgroup":         "0::/\n",
			"/sys/fs/cgroup/memory.max": "lots\n",
		}, 512 * mib, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "GOMEMLIMIT" {
					return tt.env
				}
				return ""
			}
			got, from := defaultMemoryLimit(getenv, fakeFiles(tt.files))
			if got != tt.want || !strings.Contains(from, tt.wantFrom) {
				t.Fatalf("got %d (%q), want %d from %q", got, from, tt.want, tt.wantFrom)
			}
		})
	}
}

// The limit is applied to the runtime when GOMEMLIMIT is unset, and left
// alone when it is set.
func TestSetDefaultMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	const sentinel = 123 << 20 // as if the runtime had applied GOMEMLIMIT=123MiB
	debug.SetMemoryLimit(sentinel)
	set := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "123MiB"
		}
		return ""
	}
	if limit, _ := setDefaultMemoryLimit(set); limit != 0 || debug.SetMemoryLimit(-1) != sentinel {
		t.Fatalf("with GOMEMLIMIT set: returned %d, runtime limit %d; want 0 and the limit untouched", limit, debug.SetMemoryLimit(-1))
	}

	debug.SetMemoryLimit(math.MaxInt64) // the runtime's default: no limit
	limit, source := setDefaultMemoryLimit(noEnv)
	if limit <= 0 || limit == math.MaxInt64 || debug.SetMemoryLimit(-1) != limit || source == "" {
		t.Fatalf("with GOMEMLIMIT unset: returned %d (%q), runtime limit %d; want a limit, applied", limit, source, debug.SetMemoryLimit(-1))
	}
	t.Logf("default memory limit here: %d bytes, %s", limit, source)
}
