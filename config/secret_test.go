package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestConfigHidesSecrets loads a config with a secret in every secret
// field, from the file, the environment and *_file twins, and checks that
// no way of printing, marshalling or logging it shows one.
func TestConfigHidesSecrets(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "api_tokens", "SECRET-api-file\n")
	writeFile(t, dir, "signing", "SECRET-signing-file\n")
	cfg := writeFile(t, dir, "alertgate.yaml", `
redis:
  url: redis://app:SECRET-redis-pw@redis:6379/0
api:
  tokens_file: api_tokens
integrations:
  - name: am
    type: alertmanager
    tokens: ["${AM_TOKEN}", SECRET-am-literal]
  - name: graf
    type: grafana
    tokens: [SECRET-grafana-token]
    signature:
      secrets: [SECRET-grafana-hmac]
  - name: gen
    type: generic
    tokens: [SECRET-generic-token]
    signature:
      secrets_file: signing
    generic: {dedup_key: id}
  - name: pd
    type: pagerduty
    routing_keys: [SECRET-routing-key]
`)
	c, err := LoadFileEnv(cfg, getenvFrom(map[string]string{"AM_TOKEN": "SECRET-am-env"}))
	if err != nil {
		t.Fatal(err)
	}
	// The secrets were loaded: the test would prove nothing otherwise.
	if got := c.Integrations[0].Tokens[0].Reveal(); got != "SECRET-am-env" {
		t.Fatalf("token = %q, want SECRET-am-env", got)
	}
	if got := c.Integrations[2].Signature.Secrets[0].Reveal(); got != "SECRET-signing-file" {
		t.Fatalf("signing secret = %q, want SECRET-signing-file", got)
	}

	outputs := map[string]string{}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(j)
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["yaml"] = string(y)
	// Pointers inside another struct take a different path through fmt.
	holder := struct {
		Config    *Config
		Redis     *Redis
		Signature *Signature
		Token     *Secret
	}{c, &c.Redis, c.Integrations[1].Signature, &c.Integrations[0].Tokens[0]}
	// Verbs that do not suit a string make fmt print the raw value unless
	// the type takes care; vet would flag them, hence the variable.
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%t", "%10.3s"} {
		outputs["fmt "+verb] = fmt.Sprintf(verb, c)
		outputs["fmt "+verb+" value"] = fmt.Sprintf(verb, *c)
		outputs["fmt "+verb+" integration"] = fmt.Sprintf(verb, c.Integrations[1])
		outputs["fmt "+verb+" signature"] = fmt.Sprintf(verb, *c.Integrations[1].Signature)
		outputs["fmt "+verb+" tokens"] = fmt.Sprintf(verb, c.Integrations[0].Tokens)
		outputs["fmt "+verb+" token"] = fmt.Sprintf(verb, c.Integrations[0].Tokens[0])
		outputs["fmt "+verb+" holder"] = fmt.Sprintf(verb, holder)
	}
	if got, want := fmt.Sprintf("%#v", c.Integrations[1].Signature), "config.Signature{Secrets:[]config.Secret{<secret>}"; !strings.Contains(got, want) {
		t.Errorf("%%#v of a *Signature = %s, want it to contain %s", got, want)
	}
	var jsonLog, textLog bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&jsonLog, nil), slog.NewTextHandler(&textLog, nil)} {
		log := slog.New(h)
		log.Info("loaded", "config", c)
		log.Info("loaded", "redis", c.Redis, "api", c.API, "signature", c.Integrations[1].Signature)
		log.Info("token", "token", c.Integrations[0].Tokens[0], "tokens", c.Integrations[0].Tokens)
	}
	outputs["slog json"] = jsonLog.String()
	outputs["slog text"] = textLog.String()

	for name, out := range outputs {
		if strings.Contains(out, "SECRET-") {
			t.Errorf("%s shows a secret:\n%s", name, out)
		}
	}
	// The secrets are there, as placeholders (JSON may escape the brackets).
	for _, name := range []string{"json", "yaml", "fmt %v", "slog json", "slog text"} {
		out := outputs[name]
		if !strings.Contains(out, redacted) && !strings.Contains(out, `\u003csecret\u003e`) {
			t.Errorf("%s has no %s placeholder:\n%s", name, redacted, out)
		}
	}
}

// TestErrorsHideSecrets checks that problems about secret fields never
// quote the secret.
func TestErrorsHideSecrets(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "alertgate.yaml", `
redis:
  url: redis://app:SECRET-pw@redis:port/0
integrations:
  - name: am
    type: alertmanager
    tokens: ["SECRET-${oops"]
  - name: pd1
    type: pagerduty
    routing_keys: [SECRET-dup]
  - name: pd2
    type: pagerduty
    routing_keys: [SECRET-dup]
    tokens: {SECRET-as-key: x}
`)
	_, err := LoadFileEnv(cfg, getenvFrom(nil))
	if err == nil {
		t.Fatal("loading succeeded, want errors")
	}
	got := err.Error()
	for _, want := range []string{"redis.url", "integrations[0].tokens[0]", "integrations[2].routing_keys[0]: duplicate routing key", "integrations[2].tokens"} {
		if !strings.Contains(got, want) {
			t.Errorf("error\n%s\ndoes not mention %s", got, want)
		}
	}
	if strings.Contains(got, "SECRET") {
		t.Errorf("error shows a secret:\n%s", got)
	}
}
