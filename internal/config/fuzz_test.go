package config

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader, which must return a config or an error,
// never panic. Secret references resolve to fixed text (fakeSecrets): the fuzzer must
// never run the commands it makes up. Removing any server from a TOML file must leave TOML with every other
// server, and a config that loads must survive renderUpstream: each server written
// back as TOML reads back the same.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("[servers.a]\ncommand = \"x\"\nargs = [\"1\"]\n"))
	f.Add([]byte("[servers.a]\nurl = \"https://h/${cmd:echo x}\"\nheaders = { A = \"${file:f} ${keychain:s/a}\" }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRemove(t, data)
		c, err := load("f.toml", data, fuzzOptions)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for name, u := range c.Servers {
			if mentionsEnv(u) {
				continue // rendering keeps ${env:...} for a later expansion
			}
			back, err := load("f.toml", renderUpstream(u), fuzzOptions)
			if err != nil {
				t.Fatalf("server %q rendered as\n%s\ndoes not load: %v", name, renderUpstream(u), err)
			}
			if !reflect.DeepEqual(normalize(back.Servers[name]), normalize(u)) {
				t.Fatalf("server %q round trip:\n got %+v\nwant %+v", name, back.Servers[name], u)
			}
		}
	})
}

var fuzzOptions = loadOptions{fakeSecrets: true}

func checkRemove(t *testing.T, data []byte) {
	raw, err := parseTOML("f.toml", data)
	if err != nil {
		return
	}
	servers, _ := raw["servers"].(map[string]any)
	for name := range servers {
		out, err := removeServer("f.toml", data, name)
		if err != nil {
			t.Fatalf("remove %q: %v", name, err)
		}
		after, err := parseTOML("f.toml", out)
		if err != nil {
			t.Fatalf("after removing %q:\n%s\nis not TOML: %v", name, out, err)
		}
		for other := range servers {
			if has(after, "servers", other) != (other != name) {
				t.Fatalf("after removing %q from\n%s\nserver %q present = %v", name, data, other, !(other != name))
			}
		}
	}
}

// normalize makes empty collections nil: renderUpstream leaves out "args = []".
func normalize(u Upstream) Upstream {
	if len(u.Args) == 0 {
		u.Args = nil
	}
	if len(u.Env) == 0 {
		u.Env = nil
	}
	if len(u.Headers) == 0 {
		u.Headers = nil
	}
	return u
}

func mentionsEnv(u Upstream) bool {
	s := []string{u.Command, u.Cwd, u.URL, u.Transport, u.ProtocolVersion}
	s = append(s, u.Args...)
	for _, v := range u.Env {
		s = append(s, v)
	}
	for _, v := range u.Headers {
		s = append(s, v)
	}
	for _, v := range s {
		for _, kind := range sources {
			if strings.Contains(v, "${"+kind+":") {
				return true
			}
		}
	}
	return false
}
