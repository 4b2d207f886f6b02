package config

import (
	"encoding/pem"
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
	for _, f := range []struct {
		key, val string
		valid    []string
	}{{"disclosure", c.CodeMode.Disclosure, Disclosures}, {"search_functions", c.CodeMode.SearchFunctions, SearchFunctions}} {
		if f.val != "" && !slices.Contains(f.valid, f.val) && !p.isBad(kp("codemode", f.key)) {
			p.add(kp("codemode", f.key), "%q: want one of %s", f.val, strings.Join(f.valid, ", "))
		}
	}
	validateObservability(c, raw, p)
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
	if s.MaxConnections < 0 {
		out = append(out, issue{kp("server", "max_connections"), fmt.Sprintf("must be positive (or 0 for the default), got %d", s.MaxConnections)})
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
		for _, key := range []string{"transport", "headers", "oauth"} {
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
	if u.URL != "" {
		validateOAuth(u, k, bad, p)
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
	switch {
	case u.Scope == "" && has(raw, "servers", u.Name, "scope"):
		p.add(k.with("scope"), "must not be empty (leave it out for the default %q)", ScopeShared)
	case u.Scope != "" && u.Scope != ScopeShared && u.Scope != ScopeSession:
		p.add(k.with("scope"), "must be %q (one instance for every client) or %q (one per client session), got %q", ScopeShared, ScopeSession, u.Scope)
	}
	if u.Scope != ScopeSession {
		if has(raw, "servers", u.Name, "max_sessions") {
			p.add(k.with("max_sessions"), `applies only to scope = %q`, ScopeSession)
		}
		for _, key := range sessionIDKeys(*u) {
			p.add(k.with(key...), `%s is replaced only in servers with scope = %q (a shared server has no session to name)`, SessionID, ScopeSession)
		}
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

// validateObservability checks [telemetry], [log] and [ui].
func validateObservability(c *Config, raw map[string]any, p *problems) {
	t := &c.Telemetry
	t.EnabledSet = has(raw, "telemetry", "enabled")
	switch t.Protocol {
	case "", "http", "grpc":
	default:
		if !p.isBad(kp("telemetry", "protocol")) {
			p.add(kp("telemetry", "protocol"), `must be "http" or "grpc", got %q`, t.Protocol)
		}
	}
	if t.Endpoint != "" && !p.isBad(kp("telemetry", "endpoint")) {
		if msg := checkURL(t.Endpoint); msg != "" {
			p.add(kp("telemetry", "endpoint"), "%s", msg)
		}
	}
	for name := range t.Headers {
		if !validHeaderName(name) {
			p.add(kp("telemetry", "headers", name), "invalid HTTP header name")
		}
	}
	l := &c.Log
	if l.Level != "" && !slices.Contains(LogLevels, strings.ToLower(l.Level)) && !p.isBad(kp("log", "level")) {
		p.add(kp("log", "level"), "must be one of %s, got %q", strings.Join(LogLevels, ", "), l.Level)
	}
	if l.Format != "" && !slices.Contains(LogFormats, l.Format) && !p.isBad(kp("log", "format")) {
		p.add(kp("log", "format"), `must be "text" or "json", got %q`, l.Format)
	}
	if l.File != "" && !filepath.IsAbs(l.File) && c.Path != "" {
		l.File = filepath.Join(filepath.Dir(c.Path), l.File)
	}
}

// Token endpoint authentication methods an [servers.NAME.oauth] table may name.
var tokenEndpointAuthMethods = []string{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"}

// validateOAuth checks a url server's oauth table. Messages never quote the secrets.
func validateOAuth(u *Upstream, k keyPath, bad func(string) bool, p *problems) {
	o, ok := u.OAuth, k.with("oauth")
	if !o.Configured() || p.isBad(ok) {
		return
	}
	okBad := func(key string) bool { return bad("oauth") || p.isBad(ok.with(key)) }
	for name := range u.Headers {
		if strings.EqualFold(name, "Authorization") {
			p.add(ok, "does not apply when headers sets Authorization (pctx sends that header instead of an OAuth token); remove one of them")
			return
		}
	}
	if o.ClientSecret != "" && o.ClientID == "" && !okBad("client_id") {
		p.add(ok.with("client_secret"), "needs client_id")
	}
	if m := o.TokenEndpointAuthMethod; m != "" && !slices.Contains(tokenEndpointAuthMethods, m) && !okBad("token_endpoint_auth_method") {
		p.add(ok.with("token_endpoint_auth_method"), "must be one of %s; got %q", strings.Join(tokenEndpointAuthMethods, ", "), m)
	}
	switch o.TokenEndpointAuthMethod {
	case "client_secret_basic", "client_secret_post":
		if o.ClientSecret == "" && !okBad("client_secret") {
			p.add(ok.with("token_endpoint_auth_method"), "%s needs client_secret", o.TokenEndpointAuthMethod)
		}
	case "private_key_jwt":
		if o.PrivateKey == "" && !okBad("private_key") {
			p.add(ok.with("token_endpoint_auth_method"), "private_key_jwt needs private_key")
		}
	}
	switch o.Grant {
	case "", GrantAuthorizationCode:
	case GrantClientCredentials:
		if o.ClientID == "" && !okBad("client_id") {
			p.add(ok.with("grant"), "client_credentials needs client_id, and client_secret or private_key")
		} else if o.ClientSecret == "" && o.PrivateKey == "" && !okBad("client_secret") && !okBad("private_key") {
			p.add(ok.with("grant"), "client_credentials needs client_secret or private_key")
		}
	case GrantIDJAG:
		for _, req := range []struct{ key, val string }{{"client_id", o.ClientID}, {"idp_token_endpoint", o.IDPTokenEndpoint}, {"id_token", o.IDToken}} {
			if req.val == "" && !okBad(req.key) {
				p.add(ok.with("grant"), "id_jag needs %s", req.key)
			}
		}
	default:
		if !okBad("grant") {
			p.add(ok.with("grant"), "must be %q, %q or %q; got %q", GrantAuthorizationCode, GrantClientCredentials, GrantIDJAG, o.Grant)
		}
	}
	if o.IDPTokenEndpoint != "" && !okBad("idp_token_endpoint") {
		if msg := checkURL(o.IDPTokenEndpoint); msg != "" {
			p.add(ok.with("idp_token_endpoint"), "%s", msg)
		}
	}
	if o.PrivateKey != "" && !okBad("private_key") {
		if b, _ := pem.Decode([]byte(o.PrivateKey)); b == nil {
			p.add(ok.with("private_key"), `is not a PEM private key (use "${file:PATH}" to read one from a file)`)
		}
	}
	switch o.SigningAlg {
	case "", "ES256", "RS256":
	default:
		if !okBad("signing_alg") {
			p.add(ok.with("signing_alg"), `must be "ES256" or "RS256"; got %q`, o.SigningAlg)
		}
	}
	if o.ClientMetadataURL != "" && !okBad("client_metadata_url") {
		cu, err := url.Parse(o.ClientMetadataURL)
		if err != nil || cu.Scheme != "https" || cu.Host == "" || cu.Path == "" || cu.Path == "/" {
			p.add(ok.with("client_metadata_url"), "must be an https:// URL with a path (the client ID metadata document)")
		}
	}
	if o.RedirectURI != "" && !okBad("redirect_uri") {
		if msg := checkRedirectURI(o.RedirectURI); msg != "" {
			p.add(ok.with("redirect_uri"), "%s", msg)
		}
	}
	for i, sc := range o.Scopes {
		if (sc == "" || strings.ContainsAny(sc, " \t\n\"\\")) && !okBad("scopes") {
			p.add(ok.with("scopes", index(i)), "a scope is one non-empty token without spaces or quotes")
		}
	}
}

// checkRedirectURI returns what is wrong with a redirect URI pctx must receive itself:
// http on a loopback address, with a port.
func checkRedirectURI(s string) string {
	ru, err := url.Parse(s)
	if err != nil || ru.Scheme != "http" || !isLoopback(ru.Hostname()) || ru.Port() == "" {
		return `must be http://127.0.0.1:PORT/PATH (or localhost): pctx receives the redirect on this machine's loopback`
	}
	return ""
}
