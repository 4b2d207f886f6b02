package config

import (
	"reflect"
	"testing"
)

func TestForSession(t *testing.T) {
	u := Upstream{
		Name:    "browser",
		Command: "/opt/${session.id}/bin",
		Args:    []string{"--dir", "/tmp/pw-${session.id}", "${session.id}${session.id}", "$HOME"},
		Env:     map[string]string{"DB": "${session.id}.db", "KEEP": "x"},
		Cwd:     "/work/${session.id}",
		URL:     "https://h/mcp?s=${session.id}",
		Headers: map[string]string{"X-Session": "${session.id}"},
		Scope:   ScopeSession,
	}
	orig := Upstream{Name: u.Name, Command: u.Command, Args: append([]string(nil), u.Args...), Env: map[string]string{"DB": u.Env["DB"], "KEEP": "x"},
		Cwd: u.Cwd, URL: u.URL, Headers: map[string]string{"X-Session": u.Headers["X-Session"]}, Scope: u.Scope}
	got := u.ForSession("abc")
	want := Upstream{
		Name:    "browser",
		Command: "/opt/abc/bin",
		Args:    []string{"--dir", "/tmp/pw-abc", "abcabc", "$HOME"},
		Env:     map[string]string{"DB": "abc.db", "KEEP": "x"},
		Cwd:     "/work/abc",
		URL:     "https://h/mcp?s=abc",
		Headers: map[string]string{"X-Session": "abc"},
		Scope:   ScopeSession,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ForSession:\ngot  %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(u, orig) {
		t.Errorf("ForSession modified its receiver: %+v", u)
	}
	if got := (Upstream{Command: "x"}).ForSession("abc"); got.Args != nil || got.Env != nil || got.Headers != nil {
		t.Errorf("ForSession made nil slices or maps non-nil: %+v", got)
	}
}
