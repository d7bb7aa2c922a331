package notify_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update rewrites the channels' golden files under testdata/:
//
//	go test ./notify/ -run 'Slack|Teams|Email' -update
var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// checkGolden compares got with testdata/<name>, or rewrites it under
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./notify/ -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("request differs from %s (go test ./notify/ -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
