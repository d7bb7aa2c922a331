package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/alertgate/alertgate"
)

func TestDeclareCommand(t *testing.T) {
	srv, store := apiServer(t)

	out, _, err := runCLI(t, srv.URL, "declare", "--title", "Checkout fails", "--severity", "critical", "--service", "payments", "--commander", "bob")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^declared incident (\d+) \(triggered\): `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output %q", out)
	}
	inc, err := store.Get(t.Context(), m[1])
	if err != nil {
		t.Fatal(err)
	}
	if !inc.Declared || inc.Title != "Checkout fails" || inc.Service != "payments" || inc.Roles[alertgate.RoleCommander] != "bob" {
		t.Errorf("declared %+v", inc)
	}
	if got := inc.Timeline[0].Actor; !strings.Contains(got, "alice") {
		t.Errorf("declared by %q, want $USER alice", got)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"declare", "--severity", "critical"}, "--title is required"},
		{[]string{"declare", "--title", "x"}, "--severity is required"},
		{[]string{"declare", "--title", "x", "--severity", "info", "--policy", "a", "--rotation", "b"}, "not both"},
		{[]string{"declare", "--title", "x", "--severity", "info", "extra"}, "unexpected argument"},
	} {
		_, _, err := runCLI(t, srv.URL, c.args...)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error saying %q", c.args, err, c.want)
		}
	}
	// The API's refusal comes back with its message.
	_, _, err = runCLI(t, srv.URL, "declare", "--title", "x", "--severity", "sev1")
	if err == nil || !strings.Contains(err.Error(), `"sev1" is not one of critical`) || !strings.Contains(err.Error(), "400") {
		t.Errorf("bad severity: %v, want the API's 400 message", err)
	}
}
