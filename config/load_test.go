package config

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testEnv is the environment the testdata files see.
var testEnv = map[string]string{
	"ALERTGATE_TEST_TOKEN":          "env-token",
	"ALERTGATE_TEST_REDIS_PASSWORD": "redis-pass",
}

func getenvFrom(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

// loadErr loads a testdata file and returns its *LoadError, failing the
// test when loading succeeds.
func loadErr(t *testing.T, path string) *LoadError {
	t.Helper()
	_, err := LoadFileEnv(path, getenvFrom(testEnv))
	if err == nil {
		t.Fatalf("LoadFileEnv(%s) succeeded, want an error", path)
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("LoadFileEnv(%s) error is %T, want *LoadError: %v", path, err, err)
	}
	return le
}

// TestLoadInvalid loads each testdata file that holds one mistake and checks
// the problem reported, line included. Each want is prefixed with the file
// name: ":12: field: message".
func TestLoadInvalid(t *testing.T) {
	tests := map[string][]string{
		"api_empty_token.yml":                 {`:2: api.tokens[0]: must not be empty`},
		"bad_bool.yml":                        {`:7: routes[0].auto_resolve: "yes" is not true or false`},
		"bad_duration.yml":                    {`:2: redis.timeout: "5x" is not a duration`},
		"bad_env_syntax.yml":                  {`:4: integrations[0].tokens[0]: bad variable reference at byte 0`},
		"bad_int.yml":                         {`:2: ingest.max_body_bytes: "1MB" is not a whole number`},
		"bad_integration_name.yml":            {`:2: integrations[0].name: "Prometheus" is not a valid name`},
		"bad_type.yml":                        {`:6: integrations[1].type: "foo" is not one of alertmanager, grafana, datadog, generic, pagerduty`},
		"both_value_and_file.yml":             {`:5: integrations[0].tokens_file: set either tokens or tokens_file, not both`},
		"default_policy_unknown.yml":          {`:24: default_escalation_policy: unknown escalation policy "oncall": define it under escalation_policies, or fix the id`},
		"duplicate_integration_name.yml":      {`:5: integrations[1].name: duplicate name "am" (also integrations[0].name)`},
		"duplicate_key.yml":                   {`:2: listen: duplicate key (first on line 1)`},
		"duplicate_routing_key.yml":           {`:7: integrations[1].routing_keys[1]: duplicate routing key (also integrations[0].routing_keys[1])`},
		"duration_without_unit.yml":           {`:2: ingest.retry_after: "30" is not a duration`},
		"empty_label_name.yml":                {`:6: integrations[0].labels[""]: names must not be empty`},
		"empty_token.yml":                     {`:4: integrations[0].tokens[1]: must not be empty`},
		"generic_bad_path.yml":                {`:8: integrations[0].generic.labels.host: invalid path "host..name": empty key at byte 5`},
		"generic_block_wrong_type.yml":        {`:5: integrations[0].generic: only for type generic`},
		"generic_missing_block.yml":           {`:2: integrations[0].generic: required for type generic`},
		"generic_missing_dedup_key.yml":       {`:5: integrations[0].generic.dedup_key: required`},
		"generic_resolved_without_status.yml": {`:7: integrations[0].generic.resolved_values: set status too`},
		"ingest_negative_retry.yml":           {`:2: ingest.retry_after: must be greater than 0`},
		"ingest_zero_body.yml":                {`:2: ingest.max_body_bytes: must be greater than 0`},
		"label_name_too_long.yml":             {":8: integrations[0].labels." + strings.Repeat("x", 300) + ": name is 300 bytes, longer than the limit of 256"},
		"layer_bad_restriction.yml":           {`:19: rotations[0].layers[0].restrictions[0].to: "5pm" is not a time of day HH:MM`},
		"layer_bad_shift.yml":                 {`:15: rotations[0].layers[0].shift: "30m" is not a shift length like 12h, 1d or 1w`},
		"layer_bad_start.yml":                 {`:14: rotations[0].layers[0].start: "2026-03-02 09:00" is not a local time like 2026-03-02T09:00`},
		"layer_duplicate_name.yml":            {`:13: rotations[0].layers[1].name: duplicate layer name "weekly" (also rotations[0].layers[0].name): give each layer of a rotation its own name`},
		"layer_missing_shift.yml":             {`:12: rotations[0].layers[0].shift: required: the length of one shift, such as 12h, 1d or 1w`},
		"layer_missing_start.yml":             {`:12: rotations[0].layers[0].start: required: when the first shift begins`},
		"layer_negative_shift.yml":            {`:15: rotations[0].layers[0].shift: "-1w" is not a shift length`},
		"layer_no_participants.yml":           {`:13: rotations[0].layers[0].participants: at least one participant is required`},
		"layer_unknown_participant.yml":       {`:15: rotations[0].layers[0].participants[1]: unknown user "dave": define it under users, or fix the id`},
		"layer_zero_shift.yml":                {`:15: rotations[0].layers[0].shift: a shift must be at least 1d`},
		"listen_empty.yml":                    {`:1: listen: must not be empty`},
		"missing_file.yml":                    {`:4: integrations[0].tokens_file: stat testdata/secrets/does-not-exist.txt: no such file`},
		"missing_integration_name.yml":        {`:5: integrations[1].name: required`},
		"missing_tokens.yml":                  {`:2: integrations[0].tokens: at least one token is required (tokens or tokens_file)`},
		"missing_type.yml":                    {`:2: integrations[0].type: required: one of alertmanager, grafana, datadog, generic, pagerduty`},
		"multiple_documents.yml":              {`:5: invalid YAML: the file holds more than one YAML document`},
		"not_a_mapping.yml":                   {`:1: expected a mapping, got a list`},
		"oncall_unreachable.yml":              nil, // TestUnreachableParticipants
		"pagerduty_no_routing_keys.yml":       {`:2: integrations[0].routing_keys: type pagerduty needs at least one routing key`},
		"pagerduty_tokens.yml":                {`:4: integrations[0].tokens: not used by type pagerduty`},
		"policy_bad_repeat.yml":               {`:21: escalation_policies[0].repeat: "once" is not a whole number`},
		"policy_duplicate_id.yml":             {`:23: escalation_policies[1].id: duplicate escalation policy id "payments" (also escalation_policies[0].id)`},
		"policy_empty_fallback.yml":           {`:23: escalation_policies[0].fallback: set one of user, team, rotation or notifier`},
		"policy_missing_id.yml":               {`:9: escalation_policies[0].id: required: a unique id for the escalation policy, such as "payments"`},
		"policy_no_steps.yml":                 {`:21: escalation_policies[0].steps: at least one step is required`},
		"policy_repeat_negative.yml":          {`:21: escalation_policies[0].repeat: must be between 0 and 100: how many more times the whole policy runs after its last step`},
		"policy_repeat_too_many.yml":          {`:21: escalation_policies[0].repeat: must be between 0 and 100`},
		"policy_unknown_fallback.yml":         {`:23: escalation_policies[0].fallback.user: unknown user "dave": define it under users, or fix the id`},
		"public_url_relative.yml":             {`:1: public_url: must be an absolute http:// or https:// URL`},
		"redis_bad_url.yml":                   {`:2: redis.url: unsupported scheme "http"`},
		"redis_key_prefix_brace.yml":          {`:2: redis.key_prefix: must not contain "{" or "}"`},
		"redis_zero_timeout.yml":              {`:2: redis.timeout: must be greater than 0`},
		"rotation_bad_time_zone.yml":          {`:10: rotations[0].time_zone: "America/NewYork" is not an IANA time zone`},
		"rotation_duplicate_id.yml":           {`:19: rotations[1].id: duplicate rotation id "payments-primary" (also rotations[0].id): give each rotation its own id`},
		"rotation_local_time_zone.yml":        {`:10: rotations[0].time_zone: "Local" is the server's own zone`},
		"rotation_missing_time_zone.yml":      {`:9: rotations[0].time_zone: required: the IANA zone of the rotation's start times and restrictions`},
		"rotation_no_layers.yml":              {`:11: rotations[0].layers: at least one layer is required`},
		"rotation_unknown_team.yml":           {`:12: rotations[0].team: unknown team "paymnts" (did you mean "payments"?): define it under teams, or fix the id`},
		"route_bad_name.yml":                  {`:6: routes[0].name: "my route" is not a valid name`},
		"route_bad_regexp.yml":                {":8: routes[0].match_re.env: invalid regular expression: error parsing regexp: missing closing ): `prod|(staging`"},
		"route_default_name.yml":              {`:6: routes[0].name: "default" is reserved for the built-in catch-all route`},
		"route_duplicate_name.yml":            {`:7: routes[1].name: duplicate name "db" (also routes[0].name)`},
		"route_group_by_duplicate.yml":        {`:7: routes[0].group_by[1]: duplicate label "cluster"`},
		"route_group_by_ellipsis.yml":         {`:7: routes[0].group_by: "..." (all labels) must be the only entry`},
		"route_missing_name.yml":              {`:6: routes[0].name: required`},
		"route_negative_group_wait.yml":       {`:3: routes[0].group_wait: must not be negative (0 pages at once)`},
		"engine_poll_not_below_lease.yml":     {`:5: escalation.poll_interval: must be shorter than escalation.lease (1s)`},
		"feed_secret_short.yml":               {`:3: api.feed_secret: must be at least 16 characters: anyone holding one feed URL could guess a short one and forge the rest`},
		"notifier_unknown_type.yml":           {`:3: notifiers[0].type: "pagerduty" is not a notifier type: use one of webhook, slack, teams, discord, email, twilio, telegram, ntfy`},
		"notifier_missing_url.yml":            {`:2: notifiers[0].url: required: the webhook URL to post to`},
		"notifier_console_id.yml":             {`:2: notifiers[0].id: duplicate name "console" (also the built-in console notifier)`},
		"notifier_twilio_from.yml":            {`:6: notifiers[0].from: "0044 7700 900123" is not a phone number in E.164 form`},
		"notifier_email_no_smtp.yml":          {`:2: notifiers[0].smtp: required: the mail server`},
		"notifier_smtp_from.yml":              {`:4: notifiers[0].smtp.from: "not an address" is not a mail address`},
		"contact_sms_not_e164.yml":            {`:6: users[0].contacts[0].address: "07700 900123" is not a phone number in E.164 form`},
		"step_addressed_notifier.yml":         {`:9: escalation_policies[0].steps[0].targets[0].notifier: a step can page notifier "sms" only through a user's contact`},
		"route_negative_reopen.yml":           {`:7: routes[0].reopen_window: must not be negative`},
		"route_unknown_integration.yml":       {`:7: routes[0].integrations[1]: unknown integration "grafana"`},
		"route_unknown_policy.yml":            {`:26: routes[0].escalation_policy: unknown escalation policy "paymnts" (did you mean "payments"?): define it under escalation_policies, or fix the id`},
		"route_unknown_team.yml":              {`:27: routes[0].team: unknown team "payment" (did you mean "payments"?): define it under teams`},
		"routing_keys_not_pagerduty.yml":      {`:5: integrations[0].routing_keys: only for type pagerduty`},
		"signature_bad_header.yml":            {`:7: integrations[0].signature.header: "X Signature" is not a valid HTTP header name`},
		"signature_no_secrets.yml":            {`:5: integrations[0].signature.secrets: at least one secret is required`},
		"signature_wrong_type.yml":            {`:5: integrations[0].signature: only for types grafana and generic`},
		"signature_zero_skew.yml":             {`:8: integrations[0].signature.max_skew: must be greater than 0`},
		"step_missing_delay.yml":              {`:22: escalation_policies[0].steps[0].delay: must be greater than 0`},
		"step_negative_delay.yml":             {`:23: escalation_policies[0].steps[0].delay: must be greater than 0`},
		"step_no_targets.yml":                 {`:22: escalation_policies[0].steps[0].targets: at least one target is required`},
		"step_zero_delay.yml":                 {`:23: escalation_policies[0].steps[0].delay: must be greater than 0: how long the step waits for an acknowledgement`},
		"syntax_error.yml":                    {`:4: invalid YAML: did not find expected '-' indicator`},
		"target_empty.yml":                    {`:23: escalation_policies[0].steps[0].targets[0]: set one of user, team, rotation or notifier: whom to page`},
		"target_listed_twice.yml":             {`:25: escalation_policies[0].steps[0].targets[2]: the step already pages user alice (escalation_policies[0].steps[0].targets[0]): list each target once`},
		"target_team_no_members.yml":          {`:14: escalation_policies[0].steps[0].targets[0].team: team "nobody" has no members, so this target would page nobody`},
		"target_two_fields.yml":               {`:23: escalation_policies[0].steps[0].targets[0]: set only one of user and team: a target pages one thing; make each its own target`},
		"target_unknown_notifier.yml":         {`:23: escalation_policies[0].steps[0].targets[0].notifier: unknown notifier "slack": define it under notifiers, or use the built-in "console"`},
		"target_unknown_rotation.yml":         {`:23: escalation_policies[0].steps[0].targets[0].rotation: unknown rotation "payments-secondary": define it under rotations, or fix the id`},
		"target_unknown_team.yml":             {`:23: escalation_policies[0].steps[0].targets[0].team: unknown team "sre": define it under teams, or fix the id`},
		"target_unknown_user.yml":             {`:23: escalation_policies[0].steps[0].targets[0].user: unknown user "alise" (did you mean "alice"?)`},
		"team_duplicate_id.yml":               {`:10: teams[1].id: duplicate team id "payments" (also teams[0].id): give each team its own id`},
		"team_member_twice.yml":               {`:13: teams[0].members[2]: "alice" is listed twice: list each member once`},
		"team_missing_id.yml":                 {`:9: teams[0].id: required: a unique id for the team, such as "payments"`},
		"team_unknown_member.yml":             {`:12: teams[0].members[1]: unknown user "carl" (did you mean "carol"?): define it under users, or fix the id`},
		"unknown_field.yml":                   {`:2: redis.key_prefx: unknown field (did you mean "key_prefix"?)`},
		"unknown_integration_field.yml":       {`:5: integrations[0].token: unknown field (did you mean "tokens"?)`},
		"unset_env.yml":                       {`:4: integrations[0].tokens[0]: environment variable ALERTGATE_TEST_UNSET is not set or is empty`},
		"user_bad_id.yml":                     {`:2: users[0].id: "Alice" is not a valid id`},
		"user_bad_time_zone.yml":              {`:3: users[0].time_zone: "Europe/Londn" is not an IANA time zone`},
		"user_contact_no_address.yml":         {`:4: users[0].contacts[0].address: required: where notifier "console" sends the page`},
		"user_contact_no_notifier.yml":        {`:4: users[0].contacts[0].notifier: required: the notifier to page through`},
		"user_duplicate_id.yml":               {`:8: users[3].id: duplicate user id "bob" (also users[1].id): give each user its own id`},
		"user_local_time_zone.yml":            {`:3: users[0].time_zone: "Local" is the server's own zone: name an IANA zone`},
		"user_missing_id.yml":                 {`:8: users[3].id: required: a unique id for the user, such as "alice"`},
		"user_no_contacts.yml":                {`:3: users[0].contacts: at least one contact is required, or the user cannot be paged: for example {notifier: console, address: alice}`},
		"user_unknown_notifier.yml":           {`:4: users[0].contacts[0].notifier: unknown notifier "slack": define it under notifiers, or use the built-in "console"`},
		"user_working_hours_without_zone.yml": {`:2: users[0].time_zone: required with working_hours`},
		"window_bad_day.yml":                  {`:7: users[0].working_hours.days[1]: "tues" is not a day: use mon, tue, wed, thu, fri, sat, sun`},
		"window_bad_from.yml":                 {`:6: users[0].working_hours.from: "9:00" is not a time of day HH:MM`},
		"window_bad_to.yml":                   {`:7: users[0].working_hours.to: "25:00" is not a time of day between 00:00 and 24:00`},
		"window_duplicate_day.yml":            {`:8: users[0].working_hours.days[2]: "mon" is listed twice: list each day once`},
		"window_from_end_of_day.yml":          {`:6: users[0].working_hours.from: "24:00" is the end of a day: start the window at "00:00" on the next day instead`},
		"window_missing_to.yml":               {`:4: users[0].working_hours.to: required: a time of day HH:MM, such as "09:00"`},
		"window_no_days.yml":                  {`:5: users[0].working_hours.days: at least one day is required, such as [mon, tue, wed, thu, fri]`},
		"wrong_type_list.yml":                 {`:4: integrations[0].tokens: expected a list, got a string`},
		"wrong_type_mapping.yml":              {`:1: redis: expected a mapping, got a string`},
		"wrong_type_string.yml":               {`:1: listen: expected a string, got a mapping`},
		"several_problems.yml":                nil, // TestLoadReportsAllProblems
	}

	// Every file in testdata has a case, so none is silently skipped.
	files, err := filepath.Glob("testdata/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if _, ok := tests[name]; !ok && name != "valid.yml" {
			t.Errorf("testdata/%s has no case in TestLoadInvalid", name)
		}
	}

	for _, name := range slices.Sorted(maps.Keys(tests)) {
		wants := tests[name]
		if wants == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			path := "testdata/" + name
			le := loadErr(t, path)
			got := le.Error()
			if len(le.Problems) != 1 {
				t.Errorf("got %d problems, want 1:\n%s", len(le.Problems), got)
			}
			for _, want := range wants {
				if want = path + want; !strings.Contains(got, want) {
					t.Errorf("error\n%s\ndoes not contain\n%s", got, want)
				}
			}
		})
	}
}

// TestLoadReportsAllProblems checks that one load reports every problem,
// sorted by line, each with its own line.
func TestLoadReportsAllProblems(t *testing.T) {
	le := loadErr(t, "testdata/several_problems.yml")
	var got []string
	for _, p := range le.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`testdata/several_problems.yml:3: redis.timeout: "soon" is not a duration (for example "30s", "5m", "1h30m")`,
		`testdata/several_problems.yml:8: integrations[0].colour: unknown field`,
		`testdata/several_problems.yml:9: integrations[1].name: duplicate name "am" (also integrations[0].name)`,
		`testdata/several_problems.yml:10: integrations[1].type: "foo" is not one of alertmanager, grafana, datadog, generic, pagerduty, heartbeat`,
		`testdata/several_problems.yml:12: routes[0].name: "default" is reserved for the built-in catch-all route`,
		`testdata/several_problems.yml:13: routes[0].integrations[0]: unknown integration "nope"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := le.Error(), strings.Join(want, "\n"); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	for _, p := range le.Problems {
		if p.File != "testdata/several_problems.yml" || p.Line == 0 || p.Field == "" {
			t.Errorf("problem %+v lacks file, line or field", p)
		}
	}
}

func TestLoadValid(t *testing.T) {
	c, err := LoadFileEnv("testdata/valid.yml", getenvFrom(testEnv))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate on a loaded config: %v", err)
	}
	if got, want := c.Path, "testdata/valid.yml"; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	if got, want := c.Listen, "127.0.0.1:9093"; got != want {
		t.Errorf("Listen = %q, want %q", got, want)
	}
	if got, want := c.Redis.URL.Reveal(), "redis://:redis-pass@redis.example.com:6379/1"; got != want {
		t.Errorf("Redis.URL = %q, want %q", got, want)
	}
	if got, want := c.Redis.Timeout, 2*time.Second; got != want {
		t.Errorf("Redis.Timeout = %v, want %v", got, want)
	}
	if got, want := revealAll(c.API.Tokens), []string{"api-token-1", "api-token-2"}; !slices.Equal(got, want) {
		t.Errorf("API.Tokens = %q, want %q (from tokens_file)", got, want)
	}
	if got, want := c.Ingest.MaxBodyBytes, int64(524288); got != want {
		t.Errorf("MaxBodyBytes = %d, want %d", got, want)
	}
	if got, want := len(c.Integrations), 5; got != want {
		t.Fatalf("%d integrations, want %d", got, want)
	}
	if got, want := revealAll(c.Integrations[0].Tokens), []string{"env-token", "second-token"}; !slices.Equal(got, want) {
		t.Errorf("integrations[0].tokens = %q, want %q", got, want)
	}
	if got, want := c.Integrations[1].Signature.Header, DefaultGrafanaSignatureHeader; got != want {
		t.Errorf("grafana signature header = %q, want %q", got, want)
	}
	if got, want := c.Integrations[1].Signature.MaxSkew, 2*time.Minute; got != want {
		t.Errorf("grafana max_skew = %v, want %v", got, want)
	}
	gen := c.Integrations[3]
	if got, want := gen.Signature.Header, DefaultGenericSignatureHeader; got != want {
		t.Errorf("generic signature header = %q, want %q", got, want)
	}
	if got, want := revealAll(gen.Signature.Secrets), []string{"signing-secret"}; !slices.Equal(got, want) {
		t.Errorf("generic secrets = %q, want %q", got, want)
	}
	if got, want := gen.Generic.Labels["region"], "tags[0]"; got != want {
		t.Errorf("generic labels.region = %q, want %q", got, want)
	}
	if got, want := revealAll(c.Integrations[4].RoutingKeys), []string{"0123456789abcdef0123456789abcdef"}; !slices.Equal(got, want) {
		t.Errorf("routing keys = %q, want %q", got, want)
	}

	db := c.Routes[0]
	if db.AutoResolveOn() {
		t.Error("routes[0] auto_resolve: got true, want false")
	}
	if got := db.Reopen(); got != 0 {
		t.Errorf("routes[0] reopen window = %v, want 0 (explicitly disabled)", got)
	}
	res, err := db.Regexps()
	if err != nil {
		t.Fatal(err)
	}
	for value, want := range map[string]bool{"critical": true, "error": true, "critical-ish": false, "warning": false} {
		if got := res["severity"].MatchString(value); got != want {
			t.Errorf("match_re severity on %q = %v, want %v (anchored)", value, got, want)
		}
	}
	other := c.Routes[1]
	if !other.AutoResolveOn() || other.Reopen() != DefaultReopenWindow {
		t.Errorf("routes[1] = auto_resolve %v, reopen %v; want the defaults", other.AutoResolveOn(), other.Reopen())
	}
}

func revealAll(secrets []Secret) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, s.Reveal())
	}
	return out
}

func TestLoadDefaults(t *testing.T) {
	c, err := LoadEnv([]byte(`
integrations:
  - {name: am, type: alertmanager, tokens: [t]}
  - name: gen
    type: generic
    tokens: [t]
    signature: {secrets: [s]}
    generic: {dedup_key: id}
routes:
  - name: r
`), "", getenvFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, ":8080"},
		{"redis.url", c.Redis.URL.Reveal(), "redis://127.0.0.1:6379/0"},
		{"redis.key_prefix", c.Redis.KeyPrefix, "alertgate"},
		{"redis.timeout", c.Redis.Timeout, 3 * time.Second},
		{"ingest.max_body_bytes", c.Ingest.MaxBodyBytes, int64(1 << 20)},
		{"ingest.retry_after", c.Ingest.RetryAfter, 5 * time.Second},
		{"signature.header", c.Integrations[1].Signature.Header, "X-Alertgate-Signature"},
		{"signature.max_skew", c.Integrations[1].Signature.MaxSkew, 5 * time.Minute},
		{"route auto_resolve", c.Routes[0].AutoResolveOn(), true},
		{"route reopen_window", c.Routes[0].Reopen(), 5 * time.Minute},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}

	// The accessors give the defaults on a Route that never saw them.
	var r Route
	if got, want := r.AutoResolveOn(), true; got != want {
		t.Errorf("zero Route AutoResolveOn = %v, want %v", got, want)
	}
	if got, want := r.Reopen(), 5*time.Minute; got != want {
		t.Errorf("zero Route Reopen = %v, want %v", got, want)
	}
}

// TestValidateBuiltInCode covers a Config made in code, as dev mode makes
// one: problems carry no line, and ApplyDefaults makes a minimal one valid.
func TestValidateBuiltInCode(t *testing.T) {
	c := &Config{
		Integrations: []Integration{{Name: "am", Type: TypeAlertmanager, Tokens: []Secret{"t"}}},
		Routes:       []Route{{Name: "all", GroupBy: []string{"...", "x"}}},
	}
	err := c.Validate()
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Validate() = %v, want a *LoadError", err)
	}
	want := strings.Join([]string{
		"listen: must not be empty",
		"redis.url: must not be empty",
		"redis.key_prefix: must not be empty",
		"redis.timeout: must be greater than 0",
		"ingest.max_body_bytes: must be greater than 0",
		"ingest.retry_after: must be greater than 0",
		"escalation.lease: must be at least 100ms (default 30s)",
		"escalation.poll_interval: must be at least 10ms (default 250ms)",
		"escalation.hold_recheck: must be between 1s and 1h (default 30s)",
		"delivery.claim_after: must be at least 100ms (default 30s)",
		"delivery.max_attempts: must be at least 1 (default 5)",
		"delivery.poll_interval: must be at least 10ms (default 250ms)",
		"delivery.retry_initial: must be at least 10ms (default 2s)",
		"delivery.give_up_after: must be at least 1s (default 5m0s)",
		"delivery.breaker_failures: must be at least 1 (default 5)",
		"delivery.breaker_open_for: must be at least 100ms (default 30s)",
		"delivery.per_target: must be at least 1 (default 4)",
		`routes[0].group_by: "..." (all labels) must be the only entry`,
		"retention.keep_resolved: must be at least 24h (default 2160h0m0s): export incidents before they are reduced",
	}, "\n")
	if got := err.Error(); got != want {
		t.Errorf("Validate() =\n%s\nwant\n%s", got, want)
	}

	c.Routes[0].GroupBy = []string{"..."}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("after ApplyDefaults: %v", err)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.yaml", Line: 3, Field: "listen", Message: "bad"}, "a.yaml:3: listen: bad"},
		{Problem{File: "a.yaml", Field: "listen", Message: "bad"}, "a.yaml: listen: bad"},
		{Problem{Line: 3, Field: "listen", Message: "bad"}, "line 3: listen: bad"},
		{Problem{Field: "listen", Message: "bad"}, "listen: bad"},
		{Problem{File: "a.yaml", Line: 1, Message: "invalid YAML"}, "a.yaml:1: invalid YAML"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestLoadAliasesAndMerge(t *testing.T) {
	c, err := LoadEnv([]byte(`
integrations:
  - &am
    name: am
    type: alertmanager
    tokens: &tokens [shared]
    labels: {team: sre}
  - <<: *am
    name: am2
    labels: {team: dba}
  - name: dd
    type: datadog
    tokens: *tokens
`), "", getenvFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	in := c.Integrations[1]
	if got, want := in.Name, "am2"; got != want {
		t.Errorf("merged name = %q, want %q (explicit key wins)", got, want)
	}
	if got, want := in.Type, TypeAlertmanager; got != want {
		t.Errorf("merged type = %q, want %q", got, want)
	}
	if got, want := in.Labels["team"], "dba"; got != want {
		t.Errorf("merged labels.team = %q, want %q", got, want)
	}
	if got, want := revealAll(c.Integrations[2].Tokens), []string{"shared"}; !slices.Equal(got, want) {
		t.Errorf("aliased tokens = %q, want %q", got, want)
	}
}

// TestLoadAliasBomb checks that aliases and merge keys cannot make a small
// file expand into an enormous amount of work: 3000 uses of a 3000-value
// anchor are 9 million values, and a 1 MB file could make it billions.
func TestLoadAliasBomb(t *testing.T) {
	const n = 3000
	list := strings.TrimSuffix(strings.Repeat("x, ", n), ", ")
	var mapping strings.Builder
	for i := range n {
		if i > 0 {
			mapping.WriteString(", ")
		}
		mapping.WriteString("k" + strconv.Itoa(i) + ": v")
	}
	tests := map[string]string{
		"aliases": "api:\n  tokens: &t [" + list + "]\n" +
			"integrations:\n  - &i {name: am, type: alertmanager, tokens: *t}\n" +
			strings.Repeat("  - *i\n", n),
		"merge keys": "integrations:\n  - {name: am, type: alertmanager, tokens: [t], labels: &l {" + mapping.String() + "}}\n" +
			strings.Repeat("  - {labels: {<<: *l}}\n", n),
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := LoadEnv([]byte(doc), "", getenvFrom(nil))
			var le *LoadError
			if !errors.As(err, &le) || len(le.Problems) != 1 || !strings.Contains(le.Problems[0].Message, "too many values (after expanding aliases)") {
				t.Errorf("got %.300v, want one problem: too many values", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("loading took %v", d)
			}
		})
	}
}

func TestExpandEnv(t *testing.T) {
	env := getenvFrom(map[string]string{"A": "alpha", "B_2": "beta", "NL": "x\ny: z"})
	tests := []struct {
		in, want  string
		wantUnset []string
		wantErr   bool
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "pre-${A}-${B_2}-post", want: "pre-alpha-beta-post"},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "$$${A}", want: "$alpha"},
		{in: "pa$word", want: "pa$word"},
		{in: "$.alert.id", want: "$.alert.id"},
		{in: "trailing$", want: "trailing$"},
		{in: "${NL}", want: "x\ny: z"},
		{in: "${MISSING}", want: "", wantUnset: []string{"MISSING"}},
		{in: "${MISSING}${A}${OTHER}", want: "alpha", wantUnset: []string{"MISSING", "OTHER"}},
		{in: "${", wantErr: true},
		{in: "${A", wantErr: true},
		{in: "${}", wantErr: true},
		{in: "${1A}", wantErr: true},
		{in: "${A-B}", wantErr: true},
		{in: "${A:-default}", wantErr: true},
	}
	for _, tt := range tests {
		got, unset, err := expandEnv(tt.in, env)
		if (err != nil) != tt.wantErr {
			t.Errorf("expandEnv(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got != tt.want || !slices.Equal(unset, tt.wantUnset) {
			t.Errorf("expandEnv(%q) = %q, unset %q; want %q, unset %q", tt.in, got, unset, tt.want, tt.wantUnset)
		}
	}
}

func TestLoadExpandsEnv(t *testing.T) {
	env := map[string]string{
		"TOKEN":  "tok",
		"PORT":   "9999",
		"BODY":   "2048",
		"WINDOW": "10m",
		// A secret that looks like YAML must stay one string.
		"INJECT": "x\n  - name: evil\n    type: alertmanager",
		"KEY":    "listen",
	}
	c, err := LoadEnv([]byte(`
listen: ":${PORT}"
ingest:
  max_body_bytes: ${BODY}
integrations:
  - name: am
    type: alertmanager
    tokens: ["${TOKEN}", "${INJECT}", "literal-$${TOKEN}"]
routes:
  - name: r
    reopen_window: ${WINDOW}
    match: {path: "$.a"}
`), "", getenvFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Listen, ":9999"; got != want {
		t.Errorf("Listen = %q, want %q", got, want)
	}
	if got, want := c.Ingest.MaxBodyBytes, int64(2048); got != want {
		t.Errorf("MaxBodyBytes = %d, want %d", got, want)
	}
	if got, want := c.Routes[0].Reopen(), 10*time.Minute; got != want {
		t.Errorf("Reopen = %v, want %v", got, want)
	}
	if got, want := c.Routes[0].Match["path"], "$.a"; got != want {
		t.Errorf("match.path = %q, want %q", got, want)
	}
	if got, want := revealAll(c.Integrations[0].Tokens), []string{"tok", env["INJECT"], "literal-${TOKEN}"}; !slices.Equal(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
	if got, want := len(c.Integrations), 1; got != want {
		t.Errorf("%d integrations, want %d: a variable injected structure", got, want)
	}

	// Keys are not expanded.
	_, err = LoadEnv([]byte("${KEY}: \":1\"\n"), "", getenvFrom(env))
	if err == nil || !strings.Contains(err.Error(), "${KEY}: unknown field") {
		t.Errorf("a ${VAR} key: got %v, want an unknown field", err)
	}
}

func TestLoadUsesProcessEnv(t *testing.T) {
	t.Setenv("ALERTGATE_CONFIG_TEST_TOKEN", "from-process")
	c, err := Load([]byte(`
integrations:
  - {name: am, type: alertmanager, tokens: ["${ALERTGATE_CONFIG_TEST_TOKEN}"]}
`), "inline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Integrations[0].Tokens[0].Reveal(), "from-process"; got != want {
		t.Errorf("token = %q, want %q", got, want)
	}
}

// writeFile writes a test file and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSecretFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "secrets/redis_url", "redis://:file-pass@redis:6379/2\n\n")
	writeFile(t, dir, "secrets/tokens", "# rotated 2024-05\ntok-1\n\n   tok-2  \r\n#tok-old\n")
	writeFile(t, dir, "secrets/routing", "rk-1\nrk-2")
	absSigning := writeFile(t, dir, "elsewhere/signing", "sig\n")
	writeFile(t, dir, "secrets/api", "api-1\n")
	cfg := writeFile(t, dir, "alertgate.yaml", `
redis:
  url_file: secrets/redis_url
api:
  tokens_file: ${SECRETS_DIR}/api
integrations:
  - name: am
    type: alertmanager
    tokens_file: secrets/tokens
  - name: pd
    type: pagerduty
    routing_keys_file: ./secrets/routing
  - name: gen
    type: generic
    tokens: [t]
    generic: {dedup_key: id}
    signature:
      secrets_file: `+absSigning+`
`)
	c, err := LoadFileEnv(cfg, getenvFrom(map[string]string{"SECRETS_DIR": filepath.Join(dir, "secrets")}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Redis.URL.Reveal(), "redis://:file-pass@redis:6379/2"; got != want {
		t.Errorf("redis url = %q, want %q", got, want)
	}
	if got, want := c.Redis.URLFile, "secrets/redis_url"; got != want {
		t.Errorf("redis url_file = %q, want %q (kept for the record)", got, want)
	}
	if got, want := revealAll(c.API.Tokens), []string{"api-1"}; !slices.Equal(got, want) {
		t.Errorf("api tokens = %q, want %q", got, want)
	}
	if got, want := revealAll(c.Integrations[0].Tokens), []string{"tok-1", "tok-2"}; !slices.Equal(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
	if got, want := revealAll(c.Integrations[1].RoutingKeys), []string{"rk-1", "rk-2"}; !slices.Equal(got, want) {
		t.Errorf("routing keys = %q, want %q", got, want)
	}
	if got, want := revealAll(c.Integrations[2].Signature.Secrets), []string{"sig"}; !slices.Equal(got, want) {
		t.Errorf("signature secrets = %q, want %q", got, want)
	}
}

func TestLoadSecretFileProblems(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "empty", "\n \n")
	writeFile(t, dir, "comments", "# nothing here\n\n")
	writeFile(t, dir, "url", "redis://x:6379\n")
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml, want string
	}{
		{
			"both set",
			"redis:\n  url: redis://a:6379\n  url_file: url\n",
			"cfg.yaml:3: redis.url_file: set either url or url_file, not both",
		},
		{
			"missing",
			"integrations:\n  - name: am\n    type: alertmanager\n    tokens_file: nope\n",
			"cfg.yaml:4: integrations[0].tokens_file: stat " + filepath.Join(dir, "nope") + ": no such file or directory",
		},
		{
			"empty single",
			"redis:\n  url_file: empty\n",
			"cfg.yaml:2: redis.url_file: empty is empty",
		},
		{
			"only comments",
			"integrations:\n  - name: am\n    type: alertmanager\n    tokens_file: comments\n",
			"cfg.yaml:4: integrations[0].tokens_file: comments holds no secrets",
		},
		{
			"directory",
			"api:\n  tokens_file: adir\n",
			"cfg.yaml:2: api.tokens_file: " + filepath.Join(dir, "adir") + " is not a regular file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeFile(t, dir, "cfg.yaml", tt.yaml)
			_, err := LoadFileEnv(cfg, getenvFrom(nil))
			if err == nil {
				t.Fatal("loading succeeded, want an error")
			}
			if got := err.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("error\n%s\ndoes not contain\n%s", got, tt.want)
			}
			// The one problem is not followed by derived ones such as
			// "at least one token is required".
			if got := strings.Count(err.Error(), "\n"); got != 0 {
				t.Errorf("got %d extra problems:\n%v", got, err)
			}
		})
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile of a missing file: got %v, want os.ErrNotExist", err)
	}
}

func TestLoadEmpty(t *testing.T) {
	for _, data := range []string{"", "# only a comment\n", "---\n"} {
		c, err := LoadEnv([]byte(data), "", getenvFrom(nil))
		if err != nil {
			t.Errorf("LoadEnv(%q): %v", data, err)
			continue
		}
		if got, want := c.Listen, DefaultListen; got != want {
			t.Errorf("LoadEnv(%q).Listen = %q, want %q", data, got, want)
		}
	}
}

// exampleEnv is what examples/alertgate.yaml needs.
var exampleEnv = map[string]string{
	"ALERTGATE_REDIS_PASSWORD":      "redis-secret",
	"ALERTGATE_API_TOKEN":           "api-secret",
	"ALERTGATE_FEED_SECRET":         "feed-secret-for-the-example",
	"ALERTGATE_SMTP_PASSWORD":       "smtp-secret",
	"ALERTGATE_TWILIO_TOKEN":        "twilio-secret",
	"ALERTGATE_SLACK_WEBHOOK_URL":   "https://hooks.slack.com/services/T0/B0/secret",
	"ALERTGATE_TEAMS_WORKFLOW_URL":  "https://prod.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=secret",
	"ALERTGATE_DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/secret",
	"ALERTGATE_WEBHOOK_SECRET":      "webhook-secret",
	"ALERTGATE_TELEGRAM_BOT_TOKEN":  "123:secret",
	"ALERTGATE_NTFY_TOKEN":          "tk_secret",
	"ALERTGATE_AM_TOKEN":            "am-secret",
	"ALERTGATE_GRAFANA_TOKEN":       "grafana-secret",
	"ALERTGATE_GRAFANA_SECRET":      "grafana-hmac-secret",
	"ALERTGATE_DATADOG_TOKEN":       "datadog-secret",
	"ALERTGATE_GENERIC_TOKEN":       "generic-secret",
	"ALERTGATE_GENERIC_SECRET":      "generic-hmac-secret",
	"ALERTGATE_PD_ROUTING_KEY":      "pd-routing-secret",
}

func TestExampleConfig(t *testing.T) {
	c, err := LoadFileEnv("../examples/alertgate.yaml", getenvFrom(exampleEnv))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, in := range c.Integrations {
		types = append(types, in.Type)
	}
	slices.Sort(types)
	want := []string{TypeAlertmanager, TypeDatadog, TypeGeneric, TypeGrafana, TypePagerDuty}
	if !slices.Equal(types, want) {
		t.Errorf("example integration types = %q, want one of each: %q", types, want)
	}
	if got, want := len(c.Routes), 2; got != want {
		t.Errorf("example has %d routes, want %d", got, want)
	}
	if _, err := c.Redis.Options(); err != nil {
		t.Errorf("example redis options: %v", err)
	}
	// The on-call section is wired up: every rotation converts, and every
	// route, the built-in one included, has a policy.
	for i := range c.Rotations {
		if _, err := c.Rotations[i].Schedule(); err != nil {
			t.Errorf("example rotation: %v", err)
		}
	}
	for _, r := range append(slices.Clone(c.Routes), BuiltinRoute()) {
		if c.PolicyOf(r) == "" {
			t.Errorf("example route %s pages nobody", r.Name)
		}
	}

	// The example shows every field, if only in a comment.
	data, err := os.ReadFile("../examples/alertgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[Config](), reflect.TypeFor[Redis](), reflect.TypeFor[API](),
		reflect.TypeFor[Ingest](), reflect.TypeFor[Integration](), reflect.TypeFor[Signature](),
		reflect.TypeFor[GenericMapping](), reflect.TypeFor[Route](),
		reflect.TypeFor[User](), reflect.TypeFor[Window](), reflect.TypeFor[Contact](),
		reflect.TypeFor[Team](), reflect.TypeFor[Rotation](), reflect.TypeFor[Layer](),
		reflect.TypeFor[EscalationPolicy](), reflect.TypeFor[Step](), reflect.TypeFor[Target](),
	} {
		for _, name := range fieldsOf(typ).names {
			if !strings.Contains(string(data), " "+name+":") && !strings.Contains(string(data), "\n"+name+":") {
				t.Errorf("examples/alertgate.yaml does not show %s.%s", typ.Name(), name)
			}
		}
	}

	// Every variable the example uses is needed: drop any one and loading
	// fails naming it.
	for name := range exampleEnv {
		env := maps.Clone(exampleEnv)
		delete(env, name)
		_, err := LoadFileEnv("../examples/alertgate.yaml", getenvFrom(env))
		if err == nil || !strings.Contains(err.Error(), "environment variable "+name+" is not set") {
			t.Errorf("without %s: got %v, want an error naming it", name, err)
		}
	}
}

// FuzzLoad checks that loading never panics, and that whatever it accepts
// passes Validate.
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yml")
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, "../examples/alertgate.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	env := maps.Clone(exampleEnv)
	maps.Copy(env, testEnv)
	getenv := getenvFrom(env)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Named inside testdata, so relative *_file paths find the seeds'
		// secret files.
		c, err := LoadEnv(data, "testdata/fuzz.yml", getenv)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("error %T with no problems: %v", err, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted a config that Validate rejects: %v", err)
		}
	})
}
