package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pctx-dev/pctx/internal/keyring"
)

// The secret sources a config string may reference as ${KIND:ARG}.
const (
	srcEnv      = "env"      // ${env:NAME}: an environment variable
	srcCmd      = "cmd"      // ${cmd:COMMAND}: a command's trimmed standard output
	srcFile     = "file"     // ${file:PATH}: a file's trimmed content
	srcKeychain = "keychain" // ${keychain:SERVICE/ACCOUNT}: an entry of the OS keychain
)

var sources = []string{srcEnv, srcCmd, srcFile, srcKeychain}

// Defaults of the secret sources.
const (
	// DefaultCommandTimeout bounds one ${cmd:...}: long enough for a password manager
	// to ask its user to unlock it, short enough that a hung command is reported.
	DefaultCommandTimeout = 30 * time.Second
	// DefaultKeychainService is the service of a ${keychain:ACCOUNT} without a "/",
	// as the original pctx names its entries.
	DefaultKeychainService = "pctx"
	// maxSecretBytes bounds what a ${cmd:} or ${file:} may produce.
	maxSecretBytes = 1 << 20
)

// missingEnvError is a ${env:NAME} whose variable is not set.
type missingEnvError struct{ name string }

func (e *missingEnvError) Error() string {
	return fmt.Sprintf("environment variable %s is not set", e.name)
}

// errDeferred: a reference left unresolved because the file is only being checked.
var errDeferred = errors.New("secret reference not resolved while checking")

// resolver expands secret references for one load. It runs each distinct command
// once, and remembers every value it substituted so that messages can be redacted.
type resolver struct {
	checkOnly bool   // syntax only: no commands, files or keychain; unset variables are fine
	fake      bool   // commands, files and keychain entries resolve to "fake-KIND"
	dir       string // relative ${file:} paths are resolved against it
	timeout   time.Duration
	run       func(ctx context.Context, command, dir string) (string, error)
	keyring   func() (keyring.Store, error)
	cmdCache  map[string]cmdResult
	secrets   []string
}

type cmdResult struct {
	out string
	err error
}

func newResolver(file string, opts loadOptions) *resolver {
	r := &resolver{
		checkOnly: opts.checkOnly,
		fake:      opts.fakeSecrets,
		dir:       filepath.Dir(file),
		timeout:   opts.cmdTimeout,
		run:       runCommand,
		cmdCache:  map[string]cmdResult{},
	}
	if r.timeout <= 0 {
		r.timeout = DefaultCommandTimeout
	}
	store := opts.keyring
	var storeErr error
	r.keyring = func() (keyring.Store, error) {
		if store == nil && storeErr == nil {
			store, storeErr = keyring.FromEnv(nil)
		}
		return store, storeErr
	}
	return r
}

// expand replaces every ${KIND:ARG} in s whose KIND is a secret source. "$${KIND:"
// stands for a literal "${KIND:"; any other "$" is kept as written, so shell snippets in
// args survive. Errors name the reference (never a value, nor a command's text).
func (r *resolver) expand(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i, kind := nextRef(s)
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		open := "${" + kind + ":"
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1] + open)
			s = s[i+len(open):]
			continue
		}
		b.WriteString(s[:i])
		rest := s[i+len(open):]
		j := closingBrace(rest)
		if j < 0 {
			return "", fmt.Errorf(`unterminated %q (close it with "}", or write "$%s" for a literal %q)`, open, open, open)
		}
		v, err := r.resolve(kind, rest[:j])
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		s = rest[j+1:]
	}
}

// nextRef finds the first "${KIND:" of a secret source in s.
func nextRef(s string) (int, string) {
	best, kind := -1, ""
	for _, k := range sources {
		if i := strings.Index(s, "${"+k+":"); i >= 0 && (best < 0 || i < best) {
			best, kind = i, k
		}
	}
	return best, kind
}

// closingBrace returns the index of the "}" that closes a reference whose argument
// starts s, counting nested braces (a command may hold "${HOME}" or a jq filter).
func closingBrace(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

func (r *resolver) resolve(kind, arg string) (string, error) {
	var v string
	var err error
	switch kind {
	case srcEnv:
		if !validEnvName(arg) {
			return "", fmt.Errorf("invalid environment variable name %q in ${env:%s} (use letters, digits and _, not starting with a digit)", arg, arg)
		}
		var ok bool
		if v, ok = os.LookupEnv(arg); !ok {
			return "", &missingEnvError{name: arg}
		}
	case srcCmd:
		if strings.TrimSpace(arg) == "" {
			return "", errors.New("empty command in ${cmd:}")
		}
		if r.checkOnly {
			return "", errDeferred
		}
		if r.fake {
			return "fake-cmd", nil
		}
		v, err = r.command(arg)
	case srcFile:
		if arg == "" {
			return "", errors.New("empty path in ${file:}")
		}
		if r.checkOnly {
			return "", errDeferred
		}
		if r.fake {
			return "fake-file", nil
		}
		v, err = r.file(arg)
	case srcKeychain:
		service, account, err := keychainRef(arg)
		if err != nil {
			return "", err
		}
		if r.checkOnly {
			return "", errDeferred
		}
		if r.fake {
			return "fake-keychain", nil
		}
		v, err = r.keychain(service, account)
		if err != nil {
			return "", err
		}
	}
	if err != nil {
		return "", err
	}
	r.secrets = append(r.secrets, v)
	return v, nil
}

// command runs a ${cmd:} once per load. Its text may itself hold a secret, so errors
// say "${cmd:…}" and never quote it.
func (r *resolver) command(command string) (string, error) {
	if res, ok := r.cmdCache[command]; ok {
		return res.out, res.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	out, err := r.run(ctx, command, r.dir)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		err = fmt.Errorf("${cmd:…} did not finish within %s", r.timeout)
	case err != nil:
		err = fmt.Errorf("${cmd:…} failed: %w", err)
	case out == "":
		err = errors.New("${cmd:…} printed nothing on standard output")
	}
	if err != nil {
		out = ""
	}
	r.cmdCache[command] = cmdResult{out: out, err: err}
	return out, err
}

// runCommand runs command with the system shell in dir and returns its trimmed
// standard output. A failure carries the exit status and the first line of standard
// error, which is where a password manager says why ("not signed in").
func runCommand(ctx context.Context, command, dir string) (string, error) {
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(ctx, "cmd", "/C", command)
	} else {
		cmd = exec.CommandContext(ctx, "sh", "-c", command)
	}
	cmd.Dir = dir
	// A grandchild holding stdout open must not keep us waiting past the deadline.
	cmd.WaitDelay = time.Second
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxSecretBytes, 4096
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if stdout.over {
		return "", fmt.Errorf("more than %d bytes on standard output", maxSecretBytes)
	}
	if err != nil {
		msg := err.Error()
		if line := firstLine(stderr.String()); line != "" {
			msg += " (stderr: " + line + ")"
		}
		return "", errors.New(msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 160 {
		s = string(r[:159]) + "…"
	}
	return s
}

// limitedBuffer keeps the first max bytes and notes that more came.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// file reads a ${file:}: "~/" is the home directory, a relative path is relative to
// the config file. Surrounding whitespace (the final newline) is dropped.
func (r *resolver) file(path string) (string, error) {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("${file:%s}: %w", path, err)
		}
		path = filepath.Join(home, rest)
	} else if !filepath.IsAbs(path) {
		path = filepath.Join(r.dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("${file:…}: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return "", fmt.Errorf("${file:…}: read %s: %w", path, err)
	}
	if len(data) > maxSecretBytes {
		return "", fmt.Errorf("${file:…}: %s is larger than %d bytes", path, maxSecretBytes)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("${file:…}: %s is empty", path)
	}
	return v, nil
}

// keychainRef splits SERVICE/ACCOUNT; without a "/", the service is "pctx".
func keychainRef(arg string) (service, account string, err error) {
	service, account, ok := strings.Cut(arg, "/")
	if !ok {
		service, account = DefaultKeychainService, arg
	}
	if service == "" || account == "" {
		return "", "", fmt.Errorf("${keychain:%s}: want SERVICE/ACCOUNT (or ACCOUNT, in service %q)", arg, DefaultKeychainService)
	}
	return service, account, nil
}

func (r *resolver) keychain(service, account string) (string, error) {
	store, err := r.keyring()
	if err != nil {
		return "", fmt.Errorf("${keychain:%s/%s}: %w", service, account, err)
	}
	v, err := store.Get(service, account)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", fmt.Errorf("${keychain:%s/%s}: no such entry in %s (add it with: pctx secret set %s/%s)", service, account, store.Where(), service, account)
	}
	if err != nil {
		return "", fmt.Errorf("${keychain:%s/%s}: %w", service, account, err)
	}
	if v == "" {
		return "", fmt.Errorf("${keychain:%s/%s}: the entry is empty", service, account)
	}
	return v, nil
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
// expanded are marked bad so later checks skip them, and reported unless the reference
// is merely unresolved while checking (an unset variable, a command not run) and opts or
// a disabled server allow that. A disabled server's commands, files and keychain
// entries are never read: it is often disabled because they are not there.
func expandAll(c *Config, p *problems, opts loadOptions) {
	r := newResolver(c.Path, opts)
	checking := opts.checkOnly
	str := func(k keyPath, s *string) {
		v, err := r.expand(*s)
		if err != nil {
			p.bad[joinKey(k)] = true
			_, missing := err.(*missingEnvError)
			if !(checking && (missing || errors.Is(err, errDeferred))) {
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
		checking = opts.checkOnly || u.Disabled
		r.checkOnly = checking
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
		o := k.with("oauth")
		str(o.with("client_id"), &u.OAuth.ClientID)
		str(o.with("client_secret"), &u.OAuth.ClientSecret)
		str(o.with("token_endpoint_auth_method"), &u.OAuth.TokenEndpointAuthMethod)
		str(o.with("client_metadata_url"), &u.OAuth.ClientMetadataURL)
		for i := range u.OAuth.Scopes {
			str(o.with("scopes", index(i)), &u.OAuth.Scopes[i])
		}
		str(o.with("redirect_uri"), &u.OAuth.RedirectURI)
		str(o.with("grant"), &u.OAuth.Grant)
		str(o.with("private_key"), &u.OAuth.PrivateKey)
		str(o.with("signing_alg"), &u.OAuth.SigningAlg)
		str(o.with("idp_token_endpoint"), &u.OAuth.IDPTokenEndpoint)
		str(o.with("idp_client_id"), &u.OAuth.IDPClientID)
		str(o.with("id_token"), &u.OAuth.IDToken)
		c.Servers[name] = u
	}
	c.secrets = append(c.secrets, r.secrets...)
}

// expandMap expands the values of m in place; keys are names and stay as written.
func expandMap(m map[string]string, k keyPath, str func(keyPath, *string)) {
	for name, v := range m {
		str(k.with(name), &v)
		m[name] = v
	}
}

// ValidEnvName reports whether name may be used in ${env:NAME}.
func ValidEnvName(name string) error {
	if !validEnvName(name) {
		return fmt.Errorf("invalid environment variable name %q (use letters, digits and _, not starting with a digit)", name)
	}
	return nil
}
