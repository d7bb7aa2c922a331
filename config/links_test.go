package config

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const testLinkKey = "SECRET-link-key-from-env-0123456789abcdef"

// TestLinksInvalid: one file per problem under testdata/links, each with
// the problem it must report, line included.
func TestLinksInvalid(t *testing.T) {
	tests := map[string]string{
		"key_no_id.yml":               `:5: links.keys[0].id: required`,
		"key_bad_id.yml":              `:5: links.keys[0].id: "2026/12" is not a key id: 1 to 32 letters, digits, "-" and "_" (it goes into every link)`,
		"key_duplicate_id.yml":        `:7: links.keys[1].id: duplicate key id "2026-12" (also links.keys[0].id)`,
		"key_short_secret.yml":        `:6: links.keys[0].secret: must be at least 32 bytes`,
		"key_no_secret.yml":           `:5: links.keys[0].secret: required (or secret_file)`,
		"key_secret_and_file.yml":     `:7: links.keys[0].secret_file: set either secret or secret_file, not both`,
		"key_secret_file_missing.yml": `:6: links.keys[0].secret_file: stat testdata/links/no-such-file.txt: no such file`,
		"ttl_short.yml":               `:6: links.ttl: must be at least 1m0s`,
		"ttl_long.yml":                `:6: links.ttl: must be at most 720h (30 days)`,
		"unknown_field.yml":           `:6: links.lifetime: unknown field`,
	}
	files, err := filepath.Glob("testdata/links/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := filepath.Base(f); tests[name] == "" && name != "valid.yml" {
			t.Errorf("testdata/links/%s has no case in TestLinksInvalid", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		t.Run(name, func(t *testing.T) {
			path := "testdata/links/" + name
			le := loadErr(t, path)
			if got, want := le.Error(), path+tests[name]; len(le.Problems) != 1 || !strings.Contains(got, want) {
				t.Errorf("error\n%s\nwant one problem containing\n%s", got, want)
			}
		})
	}
}

func TestLinksValid(t *testing.T) {
	c, err := LoadFileEnv("testdata/links/valid.yml", getenvFrom(map[string]string{"ALERTGATE_TEST_LINK_KEY": testLinkKey}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Links.TTL, 12*time.Hour; got != want {
		t.Errorf("ttl = %v, want %v", got, want)
	}
	keys := c.Links.Keys
	if len(keys) != 2 || keys[0].ID != "2026-12" || keys[0].Secret.Reveal() != testLinkKey ||
		keys[1].ID != "2026-06" || keys[1].Secret.Reveal() != "an-older-key-from-a-file-0123456789abcdef" {
		t.Fatalf("keys = %+v", keys)
	}
	if !c.LinksEnabled() {
		t.Error("LinksEnabled = false with keys and a public URL")
	}
	out, _ := json.Marshal(c)
	if strings.Contains(string(out), "SECRET") || strings.Contains(string(out), "an-older-key") {
		t.Errorf("the marshalled config shows a link key: %s", out)
	}
}

func TestLinksDefaults(t *testing.T) {
	c, err := Load([]byte("api: {tokens: [t]}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Links.TTL, DefaultLinkTTL; got != want {
		t.Errorf("default ttl = %v, want %v", got, want)
	}
	if c.LinksEnabled() {
		t.Error("LinksEnabled without keys")
	}
	c.Links.Keys = []LinkKey{{ID: "k", Secret: Secret(testLinkKey)}}
	if c.LinksEnabled() {
		t.Error("LinksEnabled without a public URL")
	}
}
