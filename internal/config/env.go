package config

import (
	"fmt"
	"os"
	"strings"
)

// missingEnvError is a ${env:NAME} whose variable is not set.
type missingEnvError struct{ name string }

func (e *missingEnvError) Error() string {
	return fmt.Sprintf("environment variable %s is not set", e.name)
}

// expandEnv replaces every ${env:NAME} in s with the value of the environment variable
// NAME; "$${env:" stands for a literal "${env:". Any other "$" is kept as written, so
// shell snippets in args survive. An unset variable is a *missingEnvError (a variable set
// to the empty string is fine).
func expandEnv(s string) (string, error) {
	const open = "${env:"
	if !strings.Contains(s, open) {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, open)
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1] + open)
			s = s[i+len(open):]
			continue
		}
		b.WriteString(s[:i])
		rest := s[i+len(open):]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return "", fmt.Errorf(`unterminated "${env:" (close it with "}", or write "$${env:" for a literal "${env:")`)
		}
		name := rest[:j]
		if !validEnvName(name) {
			return "", fmt.Errorf("invalid environment variable name %q in ${env:%s} (use letters, digits and _, not starting with a digit)", name, name)
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			return "", &missingEnvError{name: name}
		}
		b.WriteString(v)
		s = rest[j+1:]
	}
}

func validEnvName(name string) bool {
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for _, c := range []byte(name) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// expandAll expands every string value of c in place. Keys whose value cannot be
// expanded are marked bad so later checks skip them, and reported unless the variable
// is merely missing and opts or a disabled server allow that.
func expandAll(c *Config, p *problems, opts loadOptions) {
	ignoreMissing := opts.ignoreMissingEnv
	str := func(k keyPath, s *string) {
		v, err := expandEnv(*s)
		if err != nil {
			p.bad[joinKey(k)] = true
			if _, missing := err.(*missingEnvError); !(missing && ignoreMissing) {
				p.add(k, "%v", err)
			}
			return
		}
		*s = v
	}
	str(kp("name"), &c.Name)
	str(kp("server", "http"), &c.Server.HTTP)
	str(kp("server", "api_key"), &c.Server.APIKey)
	str(kp("telemetry", "endpoint"), &c.Telemetry.Endpoint)
	expandMap(c.Telemetry.Headers, kp("telemetry", "headers"), str)
	str(kp("log", "file"), &c.Log.File)
	for name, u := range c.Servers {
		// A disabled server may lack its secrets: that is often why it is disabled.
		ignoreMissing = opts.ignoreMissingEnv || u.Disabled
		k := kp("servers", name)
		str(k.with("command"), &u.Command)
		for i := range u.Args {
			str(k.with("args", index(i)), &u.Args[i])
		}
		expandMap(u.Env, k.with("env"), str)
		str(k.with("cwd"), &u.Cwd)
		str(k.with("url"), &u.URL)
		str(k.with("transport"), &u.Transport)
		expandMap(u.Headers, k.with("headers"), str)
		str(k.with("protocol_version"), &u.ProtocolVersion)
		c.Servers[name] = u
	}
}

// expandMap expands the values of m in place; keys are names and stay as written.
func expandMap(m map[string]string, k keyPath, str func(keyPath, *string)) {
	for name, v := range m {
		str(k.with(name), &v)
		m[name] = v
	}
}
