package config

import (
	"maps"
	"slices"
	"strings"
)

// SessionID is the placeholder a session-scoped server ([servers.NAME] scope = "session")
// may use in its command, args, env values, cwd, url and header values: each client
// session's instance gets it replaced by that session's id (26 lowercase letters and
// digits), so per-session files and directories do not clash. In a shared server it is an
// error, since there is no session to name.
const SessionID = "${session.id}"

// ForSession returns u with every SessionID replaced by id. u itself is not modified.
func (u Upstream) ForSession(id string) Upstream {
	r := strings.NewReplacer(SessionID, id)
	u.Command = r.Replace(u.Command)
	u.Args = slices.Clone(u.Args)
	for i, a := range u.Args {
		u.Args[i] = r.Replace(a)
	}
	u.Env = replaceValues(u.Env, r)
	u.Cwd = r.Replace(u.Cwd)
	u.URL = r.Replace(u.URL)
	u.Headers = replaceValues(u.Headers, r)
	return u
}

func replaceValues(m map[string]string, r *strings.Replacer) map[string]string {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = r.Replace(v)
	}
	return out
}

// sessionIDKeys returns the keys of u (relative to its table) whose values use SessionID.
func sessionIDKeys(u Upstream) [][]string {
	var out [][]string
	check := func(v string, key ...string) {
		if strings.Contains(v, SessionID) {
			out = append(out, key)
		}
	}
	check(u.Command, "command")
	for i, a := range u.Args {
		check(a, "args", index(i))
	}
	for _, k := range slices.Sorted(maps.Keys(u.Env)) {
		check(u.Env[k], "env", k)
	}
	check(u.Cwd, "cwd")
	check(u.URL, "url")
	for _, k := range slices.Sorted(maps.Keys(u.Headers)) {
		check(u.Headers[k], "headers", k)
	}
	return out
}
