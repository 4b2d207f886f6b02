package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/keyring"
	"github.com/pctx-dev/pctx/internal/oauth"
	"github.com/pctx-dev/pctx/internal/redact"
	"github.com/pctx-dev/pctx/internal/upstream"
	"github.com/pctx-dev/pctx/pkg/pctx"
)

const authUsage = `Usage:
  pctx auth login  NAME [--config F] [--no-browser] [--timeout D]   log in to an OAuth-protected server
  pctx auth status      [--config F]                                show what is stored for each server
  pctx auth logout NAME [--config F]                                revoke and delete a server's tokens

Tokens are kept in the OS keychain, or in 0600 files where there is none
($PCTX_KEYRING = auto | os | file; $PCTX_KEYRING_DIR for the files).
`

func cmdAuth(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, authUsage)
		return fmt.Errorf("%w: want login, status or logout", errUsage)
	}
	switch args[0] {
	case "login":
		return cmdAuthLogin(ctx, args[1:], stdin, stdout, stderr)
	case "status":
		return cmdAuthStatus(ctx, args[1:], stdout, stderr)
	case "logout":
		return cmdAuthLogout(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, authUsage)
		return nil
	default:
		fmt.Fprint(stderr, authUsage)
		return fmt.Errorf("%w: unknown auth command %q", errUsage, args[0])
	}
}

// authServer loads the config and returns server name, which must be a url server
// that OAuth applies to.
func authServer(configFlag, name string) (*config.Config, config.Upstream, error) {
	cfg, err := pctx.LoadConfig(configFlag)
	if err != nil {
		return nil, config.Upstream{}, err
	}
	u, ok := cfg.Servers[name]
	switch {
	case !ok:
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range cfg.Servers {
				if !yield(n) {
					return
				}
			}
		})
		return nil, u, fmt.Errorf("no server named %q in %s (servers: %s)", name, configName(cfg), strings.Join(names, ", "))
	case u.URL == "":
		return nil, u, fmt.Errorf("server %q is a command (stdio) server: OAuth applies to url servers only", name)
	case hasAuthorization(u.Headers):
		return nil, u, fmt.Errorf("server %q sends the Authorization header set in %s, so pctx does no OAuth for it (remove the header to log in with OAuth)", name, configName(cfg))
	}
	u.Name = name
	return cfg, u, nil
}

func configName(cfg *config.Config) string {
	if cfg.Path == "" {
		return "the built-in defaults"
	}
	return cfg.Path
}

func hasAuthorization(h map[string]string) bool {
	for k := range h {
		if strings.EqualFold(k, "Authorization") {
			return true
		}
	}
	return false
}

// tokenStore opens the store pctx start reads ($PCTX_KEYRING, $PCTX_KEYRING_DIR).
func tokenStore(logger *slog.Logger) (*oauth.Store, error) {
	kr, err := keyring.FromEnv(logger)
	if err != nil {
		return nil, err
	}
	return oauth.NewStore(kr), nil
}

func cmdAuthLogin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("auth login", "pctx auth login NAME [--config F] [--no-browser] [--timeout D]", stderr)
	configFlag := fs.String("config", "", "config file (default: $PCTX_CONFIG, then ./pctx.toml)")
	noBrowser := fs.Bool("no-browser", false, "only print the URL; do not open a browser")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for the browser to come back")
	logLevel := fs.String("log-level", "warn", "log level on stderr: debug, info, warn, error")
	name, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	cfg, u, err := authServer(*configFlag, name)
	if err != nil {
		return err
	}
	secrets := redact.New(cfg.Secrets()...)
	// An interactive command: text on stderr at --log-level, whatever [log] says.
	logger, closeLog, err := newLogger(stderr, config.Log{}, *logLevel, true)
	if err != nil {
		return err
	}
	defer closeLog()
	logger = slog.New(secrets.Handler(logger.Handler()))
	store, err := tokenStore(logger)
	if err != nil {
		return err
	}
	// A login authorizes afresh, even over a token that still works: that is how a
	// user changes account or picks up new scopes. It runs on a copy of the record
	// without the token (the registration and wanted scopes kept), and the result
	// replaces the stored record only once the login succeeded: an aborted login
	// leaves a working token in place, and a running pctx sees only a finished one.
	staging := oauth.NewStore(keyring.NewMemory())
	if rec, err := store.Load(u.URL); err == nil {
		rec.Token = nil
		if err := staging.Save(u.URL, rec); err != nil {
			return err
		}
	} else if !errors.Is(err, oauth.ErrNoRecord) {
		return err
	}
	agent := &oauth.Loopback{Out: stdout, In: stdin, Browser: !*noBrowser, ServerName: name, Timeout: *timeout}
	cat := catalog.New()
	m := upstream.NewManager(cat, map[string]config.Upstream{name: u}, &upstream.Options{
		Logger:       logger,
		Secrets:      secrets,
		StartTimeout: *timeout,
		Auth:         &upstream.AuthOptions{Store: staging, Agent: agent, ClientVersion: version},
	})
	m.Start(ctx)
	st := m.Status()[0]
	m.Close()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if st.State != upstream.StateReady {
		return fmt.Errorf("login to %q failed: %s", name, st.LastError)
	}
	rec, err := staging.Load(u.URL)
	if err != nil || rec.Token == nil {
		fmt.Fprintf(stdout, "%s did not ask for authorization: it needs no login (%s).\n", name, tools(st.Tools))
		return nil
	}
	if err := store.Save(u.URL, rec); err != nil {
		return err
	}
	probe, err := oauth.New(oauth.Options{ServerName: name, ServerURL: u.URL, Config: u.OAuth, Store: store})
	if err != nil {
		return err
	}
	status, err := probe.Status()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Logged in to %s (%s", name, tools(st.Tools))
	if status.Scopes != "" {
		fmt.Fprintf(stdout, "; scopes: %s", status.Scopes)
	}
	fmt.Fprintf(stdout, ").\nThe token is stored in %s", store.Where())
	if status.Refreshable {
		fmt.Fprint(stdout, " and refreshed automatically")
	}
	fmt.Fprintln(stdout, "; a running pctx picks it up without a restart.")
	return nil
}

func tools(n int) string {
	if n == 1 {
		return "1 tool"
	}
	return fmt.Sprintf("%d tools", n)
}

func cmdAuthStatus(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("auth status", "pctx auth status [--config F]", stderr)
	configFlag := fs.String("config", "", "config file (default: $PCTX_CONFIG, then ./pctx.toml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	cfg, err := pctx.LoadConfig(*configFlag)
	if err != nil {
		return err
	}
	store, err := tokenStore(nil)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(cfg.Servers))
	for n := range cfg.Servers {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		fmt.Fprintf(stdout, "no servers in %s\n", configName(cfg))
		return nil
	}
	now := time.Now()
	for _, n := range names {
		u := cfg.Servers[n]
		var line string
		switch {
		case u.URL == "":
			line = "command server: no OAuth"
		case hasAuthorization(u.Headers):
			line = "Authorization header from pctx.toml: no OAuth"
		default:
			c, err := oauth.New(oauth.Options{ServerName: n, ServerURL: u.URL, Config: u.OAuth, Store: store})
			if err != nil {
				return err
			}
			st, err := c.Status()
			if err != nil {
				line = "error: " + err.Error()
				break
			}
			line = describeStatus(n, st, now)
		}
		if u.Disabled {
			line += " (disabled)"
		}
		fmt.Fprintf(stdout, "%-20s %s\n", n, line)
	}
	fmt.Fprintf(stdout, "\nTokens are kept in %s.\n", store.Where())
	return nil
}

// describeStatus renders a server's OAuth state in one line, without secrets.
func describeStatus(name string, st oauth.Status, now time.Time) string {
	var parts []string
	switch {
	case !st.LoggedIn && st.GrantMachine:
		parts = append(parts, "client credentials: a token is fetched when needed")
	case !st.LoggedIn:
		parts = append(parts, "not logged in (needed only if the server asks; run `pctx auth login "+name+"`)")
	default:
		s := "logged in"
		switch {
		case st.Expires.IsZero():
		case st.Expires.After(now):
			s += ", token expires in " + st.Expires.Sub(now).Round(time.Minute).String()
		default:
			s += ", token expired"
		}
		if st.Refreshable {
			s += " (refreshed automatically)"
		} else if !st.Expires.IsZero() {
			s += " (no refresh token: log in again when it expires)"
		}
		parts = append(parts, s)
		if st.Scopes != "" {
			parts = append(parts, "scopes "+st.Scopes)
		}
	}
	if st.Client != "" {
		parts = append(parts, "client "+st.Client)
	}
	if len(st.WantScopes) > 0 {
		parts = append(parts, "the server asks for "+strings.Join(st.WantScopes, " ")+": run `pctx auth login "+name+"`")
	}
	return strings.Join(parts, "; ")
}

func cmdAuthLogout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("auth logout", "pctx auth logout NAME [--config F]", stderr)
	configFlag := fs.String("config", "", "config file (default: $PCTX_CONFIG, then ./pctx.toml)")
	name, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	_, u, err := authServer(*configFlag, name)
	if err != nil {
		return err
	}
	logger, _, _ := newLogger(stderr, config.Log{}, "warn", true)
	store, err := tokenStore(logger)
	if err != nil {
		return err
	}
	c, err := oauth.New(oauth.Options{ServerName: name, ServerURL: u.URL, Config: u.OAuth, Store: store, Logger: logger})
	if err != nil {
		return err
	}
	had, err := c.Logout(ctx)
	if err != nil {
		return err
	}
	if !had {
		fmt.Fprintf(stdout, "nothing stored for %s\n", name)
		return nil
	}
	fmt.Fprintf(stdout, "logged out of %s: its tokens and client registration are deleted\n", name)
	return nil
}

// parseWithName parses flags given before or after one NAME argument.
func parseWithName(fs *flag.FlagSet, args []string) (string, error) {
	// Let NAME come first, as in "pctx auth login github --no-browser".
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	switch {
	case name == "" && fs.NArg() == 1:
		name = fs.Arg(0)
	case name != "" && fs.NArg() == 0:
	default:
		return "", fmt.Errorf("%w: want exactly one server NAME", errUsage)
	}
	return name, nil
}

const secretUsage = `Usage:
  pctx secret set    SERVICE/ACCOUNT   store a value for ${keychain:SERVICE/ACCOUNT} (read from standard input)
  pctx secret delete SERVICE/ACCOUNT   delete it

Values go to the OS keychain, or to 0600 files where there is none.
`

func cmdSecret(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) != 2 || (args[0] != "set" && args[0] != "delete") {
		fmt.Fprint(stderr, secretUsage)
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			return errHelp
		}
		return fmt.Errorf("%w: want set or delete, and SERVICE/ACCOUNT", errUsage)
	}
	service, account, ok := strings.Cut(args[1], "/")
	if !ok {
		service, account = config.DefaultKeychainService, args[1]
	}
	if service == "" || account == "" {
		return fmt.Errorf("%w: want SERVICE/ACCOUNT (or ACCOUNT, in service %q)", errUsage, config.DefaultKeychainService)
	}
	kr, err := keyring.FromEnv(nil)
	if err != nil {
		return err
	}
	if args[0] == "delete" {
		if err := kr.Delete(service, account); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted %s/%s from %s\n", service, account, kr.Where())
		return nil
	}
	value, err := readSecret(stdin, stderr, service+"/"+account)
	if err != nil {
		return err
	}
	if err := kr.Set(service, account, value); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stored %s/%s in %s; use it as ${keychain:%s/%s}\n", service, account, kr.Where(), service, account)
	return nil
}

// readSecret reads one value: from a terminal without echo, else the first line of
// standard input.
func readSecret(stdin io.Reader, stderr io.Writer, what string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "Value for %s (not shown): ", what)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read the value: %w", err)
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, nil
		}
		return "", errors.New("empty value: nothing stored")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 1<<20)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the value: %w", err)
	}
	if v := strings.TrimSpace(line); v != "" {
		return v, nil
	}
	return "", errors.New("empty value on standard input: nothing stored")
}
