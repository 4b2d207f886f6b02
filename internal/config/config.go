package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Defaults and names used when a key or the whole file is absent.
const (
	// FileName is the config file looked for in the working directory.
	FileName = "pctx.toml"
	// EnvVar names the environment variable that may point at the config file.
	EnvVar = "PCTX_CONFIG"

	DefaultName            = "pctx"
	DefaultHTTP            = "127.0.0.1:8080"
	DefaultUpstreamTimeout = 60 * time.Second

	// DefaultProtocolVersion is the MCP protocol version offered to upstreams. It is
	// deliberately older than mcp-go's newest, which some servers mishandle.
	DefaultProtocolVersion = "2025-06-18"
)

// Config is a whole pctx.toml after defaults, secret expansion (${env:}, ${cmd:},
// ${file:}, ${keychain:}) and validation.
//
// The koanf tags are the TOML keys; untagged fields are not read from the file.
type Config struct {
	Name     string              `koanf:"name"` // reported to MCP clients; default "pctx"
	Path     string              // file it was loaded from; empty when defaults were used
	Server   Server              `koanf:"server"`
	Runtime  Runtime             `koanf:"runtime"`
	Sandbox  Sandbox             `koanf:"sandbox"`
	CodeMode CodeMode            `koanf:"codemode"`
	Servers  map[string]Upstream `koanf:"servers"` // keyed by name
	// Telemetry is OpenTelemetry export; off unless enabled (or OTEL_EXPORTER_OTLP_ENDPOINT
	// is set and enabled is not written).
	Telemetry Telemetry `koanf:"telemetry"`
	Log       Log       `koanf:"log"`
	UI        UI        `koanf:"ui"`

	secrets []string // every value a secret reference expanded to
}

// Secrets returns every value that a secret reference in the file expanded to, so that
// logs and messages can be redacted. Callers must not modify the slice.
func (c *Config) Secrets() []string { return c.secrets }

// CodeMode is the [codemode] table: how the catalog is presented to agents.
type CodeMode struct {
	// Naming is the convention of the names agents call, for MCP clients and SDK
	// connections: NamingRegistered (default) or NamingCamel. Sessions of the published
	// pctx-client always get NamingCamel, its original's convention.
	Naming string `koanf:"naming"`
	// Disclosure is the MCP sessions' default disclosure: "catalog", "filesystem",
	// "sidecar" or "auto"; "" means auto. A session may choose another
	// (docs/disclosure.md).
	Disclosure string `koanf:"disclosure"`
	// SearchFunctions offers search_functions: "auto" (past 50 functions), "on" or
	// "off"; "" means auto.
	SearchFunctions string `koanf:"search_functions"`
	// InlineBudget is the size up to which auto puts the declarations inline, in bytes
	// (about 4 per token), written like "4KB"; 0 means 4000.
	InlineBudget int64 `koanf:"inline_budget"`
}

// Spellings of [codemode] naming.
const (
	// NamingRegistered keeps names as registered, sanitised into identifiers (get-sum →
	// get_sum).
	NamingRegistered = "registered"
	// NamingCamel gives PascalCase namespaces and camelCase functions (tools → Tools,
	// add_numbers → addNumbers), as the original pctx does.
	NamingCamel = "camel"
)

// Telemetry is the [telemetry] table: OTLP export of traces and metrics. Empty fields
// fall back to the standard OTEL_* environment variables.
type Telemetry struct {
	Enabled bool `koanf:"enabled"`
	// EnabledSet says whether the file writes enabled; when it does not, an
	// OTEL_EXPORTER_OTLP_ENDPOINT in the environment turns telemetry on.
	EnabledSet     bool
	Endpoint       string            `koanf:"endpoint"`        // collector base URL, e.g. "http://127.0.0.1:4318"
	Protocol       string            `koanf:"protocol"`        // "http" or "grpc"; default OTEL_EXPORTER_OTLP_PROTOCOL, else "http"
	Headers        map[string]string `koanf:"headers"`         // sent with every export
	ServiceName    string            `koanf:"service_name"`    // default OTEL_SERVICE_NAME, else name
	Traces         bool              `koanf:"traces"`          // export spans; default true
	Metrics        bool              `koanf:"metrics"`         // export metrics; default true
	MetricInterval time.Duration     `koanf:"metric_interval"` // default 60s
}

// Log is the [log] table. pctx logs to stderr, never to stdout (in --stdio mode stdout is
// the MCP stream).
type Log struct {
	Level  string `koanf:"level"`  // debug, info, warn or error; default info (--log-level overrides)
	Format string `koanf:"format"` // "text" (logfmt) or "json" (one object per line); default text
	File   string `koanf:"file"`   // append logs to this file instead of stderr; relative to the config file
}

// UI is the [ui] table: the dashboard at /ui, behind the same API key and origin checks
// as /mcp.
type UI struct {
	Enabled bool `koanf:"enabled"` // serve /ui (read-only: executions, catalog, backends); default false
	// Playground lets the dashboard run programs (POST /ui/api/execute); default false.
	// It grants nothing /mcp does not, but a dashboard left open is a bigger target.
	Playground bool `koanf:"playground"`
	History    int  `koanf:"history"` // executions the dashboard keeps; default 100
}

// Log levels and formats [log] accepts.
var (
	LogLevels  = []string{"debug", "info", "warn", "error"}
	LogFormats = []string{"text", "json"}
)

// Server is the [server] table.
type Server struct {
	HTTP               string `koanf:"http"`                 // listen address for /mcp, /ws, /healthz; default "127.0.0.1:8080"
	APIKey             string `koanf:"api_key"`              // optional; required when HTTP binds beyond loopback
	AllowClientServers bool   `koanf:"allow_client_servers"` // lets published-client sessions register MCP servers, stdio included (off)
	// MaxExecutions caps executions running at once across all clients; 0 means the
	// Code Mode service's default (64).
	MaxExecutions int `koanf:"max_executions"`
	// MaxExecutionsPerSession caps executions running at once for one session (an MCP
	// session, an SDK connection, a published-client session); 0 means the default (8).
	MaxExecutionsPerSession int `koanf:"max_executions_per_session"`
	// MaxConnections caps the HTTP connections open at once, websockets included; 0 means
	// the server's default (512).
	MaxConnections int `koanf:"max_connections"`
	// MaxSessionUpstreams caps the instances of session-scoped upstreams (scope =
	// "session") running at once over all servers and sessions; 0 means the default (64).
	MaxSessionUpstreams int `koanf:"max_session_upstreams"`
	// SessionIdleTimeout ends an HTTP MCP session, or a published-client session, that has
	// had no request for this long, stopping its session-scoped upstreams; 0 means the
	// default (30 minutes).
	SessionIdleTimeout time.Duration `koanf:"session_idle_timeout"`
}

// Runtime is the [runtime] table: limits of one execution (zero means the runtime default).
type Runtime struct {
	Timeout          time.Duration `koanf:"timeout"`    // default 30s
	MaxMemory        int64         `koanf:"max_memory"` // bytes, written as "256MiB"
	MaxStackDepth    int           `koanf:"max_stack_depth"`
	MaxCalls         int           `koanf:"max_calls"`
	MaxCallsInFlight int           `koanf:"max_calls_in_flight"`
	MaxConsoleBytes  int64         `koanf:"max_console_bytes"`
	MaxResultBytes   int64         `koanf:"max_result_bytes"`
	MaxArgumentBytes int64         `koanf:"max_argument_bytes"` // one call's arguments as JSON; default 4MiB
	MaxCPUTime       time.Duration `koanf:"max_cpu_time"`       // CPU time of one run; default: twice timeout
	// Typecheck is what happens to a program that does not type-check against the
	// catalog: TypecheckStrict (refuse it, call nothing), TypecheckWarn (run it, append
	// the errors) or TypecheckOff. "" means strict.
	Typecheck string `koanf:"typecheck"`
	// Tsgo is the TypeScript checker (tsgo) to use; "" looks for $PCTX_TSGO, then beside
	// the pctx executable, then PATH. Relative paths are resolved against the config
	// file's directory.
	Tsgo string `koanf:"tsgo"`
}

// Sandbox is the [sandbox] table: the worker processes executions run in (zero means the
// default).
type Sandbox struct {
	WarmWorkers         int   `koanf:"warm_workers"`          // idle workers kept started; default 2
	ExecutionsPerWorker int   `koanf:"executions_per_worker"` // executions one worker runs at once; default 1
	RecycleAfter        int   `koanf:"recycle_after"`         // executions before a worker is replaced; default 1000
	MemoryLimit         int64 `koanf:"memory_limit"`          // hard memory bound of a worker; default 192MiB + 2 x max_memory x executions_per_worker
}

// Disclosures and search settings [codemode] accepts.
var (
	Disclosures     = []string{"catalog", "filesystem", "sidecar", "auto"}
	SearchFunctions = []string{"auto", "on", "off"}
)

// Type-check modes of Runtime.Typecheck.
const (
	TypecheckStrict = "strict"
	TypecheckWarn   = "warn"
	TypecheckOff    = "off"
)

// Upstream is one [servers.NAME] table: either Command (stdio) or URL (HTTP).
type Upstream struct {
	Name    string            // the NAME of [servers.NAME]
	Command string            `koanf:"command"`
	Args    []string          `koanf:"args"`
	Env     map[string]string `koanf:"env"`
	Cwd     string            `koanf:"cwd"` // relative paths are resolved against the config file's directory
	// InheritEnv passes pctx's whole environment to the command; by default it
	// gets only a short allowlist (PATH, HOME, locale, proxies, NODE_*, ...)
	// plus Env, so pctx's own secrets do not leak to every child.
	InheritEnv      bool              `koanf:"inherit_env"`
	URL             string            `koanf:"url"`
	Transport       string            `koanf:"transport"` // "" (auto: streamable HTTP, then SSE), "streamable-http", "sse"
	Headers         map[string]string `koanf:"headers"`
	Timeout         time.Duration     `koanf:"timeout"`          // per call; default 60s
	ProtocolVersion string            `koanf:"protocol_version"` // MCP protocol version offered; default "2025-06-18"
	Disabled        bool              `koanf:"disabled"`
	// Scope is ScopeShared (or "", the default): one session serves every client; or
	// ScopeSession: each client session gets its own instance, started on its first call
	// and stopped when the session ends, with SessionID in its values replaced by the
	// session's id (ForSession).
	Scope string `koanf:"scope"`
	// MaxSessions caps this server's instances running at once (scope = "session" only);
	// 0 means only [server] max_session_upstreams applies.
	MaxSessions int `koanf:"max_sessions"`
	// OAuth tunes OAuth 2.1 for a url server. Without it, OAuth still happens when the
	// server asks for it (a 401 with a Bearer challenge) and no Authorization header
	// is configured: discovery, then a client ID metadata document, dynamic
	// registration or the client set here.
	OAuth OAuth `koanf:"oauth"`
}

// OAuth is a [servers.NAME.oauth] table. Every key is optional.
type OAuth struct {
	// ClientID (with ClientSecret for a confidential client) is a client registered
	// with the authorization server beforehand; when set, no registration happens.
	ClientID     string `koanf:"client_id"`
	ClientSecret string `koanf:"client_secret"`
	// TokenEndpointAuthMethod is how the client authenticates to the token endpoint:
	// "none", "client_secret_basic", "client_secret_post" or "private_key_jwt";
	// default: what registration returned, else the first of those the server
	// supports that the credentials allow.
	TokenEndpointAuthMethod string `koanf:"token_endpoint_auth_method"`
	// ClientMetadataURL is an https URL serving this client's metadata document; used
	// as the client ID when the authorization server supports such documents.
	ClientMetadataURL string `koanf:"client_metadata_url"`
	// Scopes replaces scope selection (the challenge's scope, else the server's
	// scopes_supported).
	Scopes []string `koanf:"scopes"`
	// RedirectURI is the loopback redirect registered for a pre-registered client,
	// like "http://127.0.0.1:8976/callback"; default: a free port on 127.0.0.1.
	RedirectURI string `koanf:"redirect_uri"`
	// Grant is "authorization_code" (default: a user logs in with pctx auth login),
	// "client_credentials" (a machine client with ClientID and a secret or key) or
	// "id_jag" (enterprise-managed authorization: IDToken, an ID token from the
	// organisation's identity provider, is exchanged at IDPTokenEndpoint for an
	// identity assertion grant, which the authorization server trades for a token).
	Grant string `koanf:"grant"`
	// IDPTokenEndpoint, IDPClientID and IDToken configure the "id_jag" grant; IDToken
	// is usually "${cmd:...}" printing a current ID token (it is read at start).
	IDPTokenEndpoint string `koanf:"idp_token_endpoint"`
	IDPClientID      string `koanf:"idp_client_id"`
	IDToken          string `koanf:"id_token"`
	// PrivateKey is a PEM private key (usually "${file:...}") for private_key_jwt.
	PrivateKey string `koanf:"private_key"`
	// SigningAlg signs the private_key_jwt assertion: "ES256" or "RS256"; default: by
	// the key's type.
	SigningAlg string `koanf:"signing_alg"`
}

// OAuth grants.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantIDJAG             = "id_jag"
)

// Configured reports whether any key of the table is set.
func (o OAuth) Configured() bool {
	return o.ClientID != "" || o.ClientSecret != "" || o.TokenEndpointAuthMethod != "" ||
		o.ClientMetadataURL != "" || len(o.Scopes) > 0 || o.RedirectURI != "" ||
		o.Grant != "" || o.PrivateKey != "" || o.SigningAlg != "" ||
		o.IDPTokenEndpoint != "" || o.IDPClientID != "" || o.IDToken != ""
}

// Machine reports whether the grant needs no user: pctx obtains tokens by itself.
func (o OAuth) Machine() bool { return o.Grant == GrantClientCredentials || o.Grant == GrantIDJAG }

// Scopes of an upstream server.
const (
	ScopeShared  = "shared"
	ScopeSession = "session"
)

// Transports an upstream URL may name; the empty string means auto-detect.
const (
	TransportStreamableHTTP = "streamable-http"
	TransportSSE            = "sse"
)

// Default returns the configuration used when no file exists: the defaults above, zero
// runtime limits (the runtime's own defaults) and no upstreams.
func Default() *Config {
	return &Config{
		Name: DefaultName,
		Server: Server{
			HTTP: DefaultHTTP,
		},
		Telemetry: Telemetry{Traces: true, Metrics: true},
	}
}

// Find returns the config file to use: flagPath if set (from --config), else $PCTX_CONFIG
// if set, else ./pctx.toml if it exists, else "" (meaning: use Default). A file named by
// the flag or the variable that does not exist is an error wrapping fs.ErrNotExist.
func Find(flagPath string) (string, error) {
	if flagPath != "" {
		return mustExist(flagPath, "--config")
	}
	if p := os.Getenv(EnvVar); p != "" {
		return mustExist(p, "$"+EnvVar)
	}
	_, err := os.Stat(FileName)
	switch {
	case err == nil:
		return FileName, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	default:
		return "", fmt.Errorf("config: %w", err)
	}
}

func mustExist(path, from string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config file %s (from %s) does not exist: %w", path, from, fs.ErrNotExist)
		}
		return "", fmt.Errorf("config file %s (from %s): %w", path, from, err)
	}
	return path, nil
}

// Resolve finds the config file as Find does and loads it, or returns Default when there
// is none.
func Resolve(flagPath string) (*Config, error) {
	path, err := Find(flagPath)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return Default(), nil
	}
	return Load(path)
}

// Load reads, decodes, expands and validates the TOML file at path. On failure the error
// joins one *Error per problem (errors.Join), sorted by line; each names the file, the
// line where known and the dotted key.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return load(path, data, loadOptions{})
}
