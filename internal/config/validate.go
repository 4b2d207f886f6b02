package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var protocolVersionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// validate checks what types alone cannot and fills per-upstream defaults. raw is the
// decoded document, consulted to tell an explicit empty value from an absent one.
func validate(c *Config, raw map[string]any, p *problems) {
	if c.Name == "" && !p.isBad(kp("name")) {
		p.add(kp("name"), "must not be empty")
	}
	for _, is := range serverIssues(c.Server) {
		if !p.isBad(kp("server", "http")) && !p.isBad(kp("server", "api_key")) && !p.isBad(is.key) {
			p.add(is.key, "%s", is.msg)
		}
	}
	switch c.Runtime.Typecheck {
	case "", TypecheckStrict, TypecheckWarn, TypecheckOff:
	default:
		if !p.isBad(kp("runtime", "typecheck")) {
			p.add(kp("runtime", "typecheck"), "%q is not a mode: use %q, %q or %q", c.Runtime.Typecheck, TypecheckStrict, TypecheckWarn, TypecheckOff)
		}
	}
	if c.Runtime.Tsgo != "" && !filepath.IsAbs(c.Runtime.Tsgo) && c.Path != "" {
		c.Runtime.Tsgo = filepath.Join(filepath.Dir(c.Path), c.Runtime.Tsgo)
	}
	switch c.CodeMode.Naming {
	case "", NamingRegistered, NamingCamel:
	default:
		if !p.isBad(kp("codemode", "naming")) {
			p.add(kp("codemode", "naming"), "must be %q or %q, got %q", NamingRegistered, NamingCamel, c.CodeMode.Naming)
		}
	}
	names := make([]string, 0, len(c.Servers))
	for name := range c.Servers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		u := c.Servers[name]
		u.Name = name
		validateUpstream(&u, raw, p)
		if u.Cwd != "" && !filepath.IsAbs(u.Cwd) {
			u.Cwd = filepath.Join(filepath.Dir(c.Path), u.Cwd)
		}
		c.Servers[name] = u
	}
}

// issue is one problem found without a file at hand.
type issue struct {
	key keyPath
	msg string
}

func serverIssues(s Server) []issue {
	var out []issue
	host, port, err := net.SplitHostPort(s.HTTP)
	if n, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || n == 0 && port != "0" {
		out = append(out, issue{kp("server", "http"), fmt.Sprintf(`%q is not a listen address: use host:port, like "127.0.0.1:8080"`, s.HTTP)})
	} else if s.APIKey == "" && !isLoopback(host) {
		out = append(out, issue{kp("server", "http"), fmt.Sprintf("%q listens beyond loopback, so server.api_key must be set", s.HTTP)})
	}
	return out
}

// Validate checks s as Load does. Call it after overriding fields (say, from --http),
// since binding beyond loopback requires an API key.
func (s Server) Validate() error {
	var errs []error
	for _, is := range serverIssues(s) {
		errs = append(errs, fmt.Errorf("%s: %s", is.key, is.msg))
	}
	return errors.Join(errs...)
}

// isLoopback reports whether host names only this machine; "" (all interfaces) does not.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ValidServerName reports whether name may name a [servers.NAME] table. The name becomes
// the namespace agents call, and koanf splits keys on ".", hence the narrow alphabet.
func ValidServerName(name string) error {
	if name == "" {
		return errors.New("server name must not be empty")
	}
	for _, c := range []byte(name) {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return fmt.Errorf(`invalid server name %q: use only letters, digits, "_" and "-" (it becomes the namespace in code, and a "." would split the key)`, name)
		}
	}
	return nil
}

func validateUpstream(u *Upstream, raw map[string]any, p *problems) {
	k := kp("servers", u.Name)
	if p.isBad(k) {
		return
	}
	if err := ValidServerName(u.Name); err != nil {
		p.add(k, "%v", err)
	}
	bad := func(key string) bool { return p.isBad(k.with(key)) }
	switch {
	case bad("command") || bad("url"):
	case u.Command != "" && u.URL != "":
		p.add(k, "set either command (stdio) or url (HTTP), not both")
	case u.Command == "" && u.URL == "":
		p.add(k, "set command (a stdio server) or url (an HTTP server)")
	}
	if u.URL != "" && !bad("url") {
		if msg := checkURL(u.URL); msg != "" {
			p.add(k.with("url"), "%s", msg)
		}
	}
	if u.Command != "" {
		for _, key := range []string{"transport", "headers"} {
			if has(raw, "servers", u.Name, key) {
				p.add(k.with(key), "applies only to url servers")
			}
		}
	}
	if u.URL != "" {
		for _, key := range []string{"args", "env", "cwd", "inherit_env"} {
			if has(raw, "servers", u.Name, key) {
				p.add(k.with(key), "applies only to command servers")
			}
		}
	}
	switch u.Transport {
	case "", TransportStreamableHTTP, TransportSSE:
	default:
		if !bad("transport") {
			p.add(k.with("transport"), `must be %q or %q (or unset: try streamable HTTP, then SSE), got %q`, TransportStreamableHTTP, TransportSSE, u.Transport)
		}
	}
	for name := range u.Env {
		if !validEnvName(name) {
			p.add(k.with("env", name), "invalid environment variable name (use letters, digits and _, not starting with a digit)")
		}
	}
	for name := range u.Headers {
		if !validHeaderName(name) {
			p.add(k.with("headers", name), "invalid HTTP header name")
		}
	}
	switch {
	case bad("protocol_version"):
	case u.ProtocolVersion == "" && has(raw, "servers", u.Name, "protocol_version"):
		p.add(k.with("protocol_version"), "must not be empty (leave it out for the default %q)", DefaultProtocolVersion)
	case u.ProtocolVersion == "":
		u.ProtocolVersion = DefaultProtocolVersion
	case !protocolVersionRE.MatchString(u.ProtocolVersion):
		p.add(k.with("protocol_version"), "must be an MCP protocol version, a date like %q; got %q", DefaultProtocolVersion, u.ProtocolVersion)
	}
	if u.Timeout == 0 {
		u.Timeout = DefaultUpstreamTimeout
	}
}

// checkURL returns what is wrong with an upstream URL, or "". It never echoes the URL,
// which may carry a token.
func checkURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "invalid URL: " + err.Error()
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return "must be an http:// or https:// URL (it has no scheme)"
		}
		return fmt.Sprintf("must be an http:// or https:// URL, not %s://", u.Scheme)
	}
	if u.Host == "" {
		return "URL has no host"
	}
	return ""
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 section 5.6.2).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// has reports whether the decoded document holds the key path.
func has(raw map[string]any, parts ...string) bool {
	var cur any = raw
	for _, part := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
