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

// Config is a whole pctx.toml after defaults, ${env:NAME} expansion and validation.
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
}

// CodeMode is the [codemode] table: how the catalog is presented to agents.
type CodeMode struct {
	// Naming is the convention of the names agents call, for MCP clients and SDK
	// connections: NamingRegistered (default) or NamingCamel. Sessions of the published
	// pctx-client always get NamingCamel, its original's convention.
	Naming string `koanf:"naming"`
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
}

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
