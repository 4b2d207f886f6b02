package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	goruntime "runtime"
	"strings"
	"syscall"
	"time"

	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/pctxlog"
	"github.com/pctx-dev/pctx/internal/server"
	"github.com/pctx-dev/pctx/pkg/pctx"
)

// newFlags returns a flag set for one subcommand whose -h prints usageLine and its flags.
func newFlags(name, usageLine string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pctx "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning -h into errHelp and bad flags into errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// newLogger builds the logger [log] describes: level (flagLevel wins when the flag was
// given), text or JSON, to file or else to stderr. Never stdout: in --stdio mode that is
// the MCP stream. The returned close func closes the log file, if any.
func newLogger(stderr io.Writer, cfg config.Log, flagLevel string, flagGiven bool) (*slog.Logger, func(), error) {
	level := cfg.Level
	if flagGiven || level == "" {
		level = flagLevel
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		from := "[log] level"
		if flagGiven || cfg.Level == "" {
			from = "--log-level"
		}
		return nil, nil, fmt.Errorf("%w: %s %q: want debug, info, warn or error", errUsage, from, level)
	}
	w, closeFn := stderr, func() {}
	if cfg.File != "" {
		f, err := os.OpenFile(cfg.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("[log] file: %w", err)
		}
		w, closeFn = f, func() { _ = f.Close() }
	}
	opts := &slog.HandlerOptions{Level: l}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), closeFn, nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), closeFn, nil
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func cmdStart(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("start", "pctx start [--config F] [--stdio] [--http ADDR] [--log-level L]", stderr)
	configFlag := fs.String("config", "", "config file (default: $PCTX_CONFIG, then ./pctx.toml, else built-in defaults)")
	stdio := fs.Bool("stdio", false, "serve MCP over stdin/stdout (for Claude Desktop); HTTP still serves /ws for SDK workers")
	httpAddr := fs.String("http", "", "HTTP listen address (default: [server] http, 127.0.0.1:8080)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error (default: [log] level, else info)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return serve(ctx, serveOptions{config: *configFlag, http: *httpAddr, logLevel: *logLevel, logLevelGiven: flagGiven(fs, "log-level"), stdio: *stdio}, stdin, stdout, stderr)
}

// cmdDev serves like start over HTTP with the dashboard and its playground on, and opens
// the dashboard in a browser.
func cmdDev(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("dev", "pctx dev [--config F] [--http ADDR] [--log-level L] [--no-open]", stderr)
	configFlag := fs.String("config", "", "config file (default: $PCTX_CONFIG, then ./pctx.toml, else built-in defaults)")
	httpAddr := fs.String("http", "", "HTTP listen address (default: [server] http, 127.0.0.1:8080)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error (default: [log] level, else info)")
	noOpen := fs.Bool("no-open", false, "do not open a browser; just print the dashboard's URL")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return serve(ctx, serveOptions{config: *configFlag, http: *httpAddr, logLevel: *logLevel, logLevelGiven: flagGiven(fs, "log-level"), dev: true,
		listening: func(base string, log *slog.Logger) {
			url := base + "/ui/"
			fmt.Fprintf(stdout, "pctx dashboard: %s\n", url)
			if !*noOpen {
				if err := openBrowser(url); err != nil {
					log.Warn("could not open a browser; open the dashboard yourself", "url", url, "err", err)
				}
			}
		}}, stdin, stdout, stderr)
}

// openBrowser asks the desktop to open url, without waiting for the browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch goruntime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// serveOptions are what start and dev share.
type serveOptions struct {
	config, http, logLevel string
	logLevelGiven, stdio   bool
	dev                    bool                             // dashboard and playground on
	listening              func(url string, l *slog.Logger) // called once HTTP listens
}

func serve(ctx context.Context, o serveOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	stdio, httpAddr := &o.stdio, &o.http
	cfg, err := pctx.LoadConfig(o.config)
	if err != nil {
		return err
	}
	if o.dev {
		cfg.UI.Enabled, cfg.UI.Playground = true, true
	}
	logger, closeLog, err := newLogger(stderr, cfg.Log, o.logLevel, o.logLevelGiven)
	if err != nil {
		return err
	}
	defer closeLog()
	if *httpAddr != "" {
		cfg.Server.HTTP = *httpAddr
		// The file was validated as written; --http may have moved the listener.
		if err := cfg.Server.Validate(); err != nil {
			return fmt.Errorf("refusing to start: %w", err)
		}
	}
	addr := cfg.Server.HTTP
	// Bind before connecting upstreams so a busy port fails fast.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if !*stdio {
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		// In stdio mode HTTP only carries SDK workers; a second pctx started by the same
		// desktop client must still serve its own stdio.
		logger.Warn("SDK websocket unavailable: cannot listen", "addr", addr, "err", err)
	}

	// A client that closes our stdout or stderr (a desktop client quitting) must not kill
	// pctx with SIGPIPE halfway through stopping its sessions' upstreams: the write fails
	// instead, and shutdown goes on.
	signal.Ignore(syscall.SIGPIPE)
	p, err := pctx.New(ctx, cfg, &pctx.Options{Logger: logger, Version: version})
	if err != nil {
		return err
	}
	defer p.Close()
	handler := p.Handler()
	if *stdio {
		handler = p.WorkersHandler()
	}
	// Requests (and the executions they run) end with the process's signal context, so
	// shutdown cancels running programs instead of waiting out its grace period.
	var lim *server.ConnLimiter
	if ln != nil {
		lim = server.LimitConnections(ln, &server.ConnLimitOptions{Max: cfg.Server.MaxConnections, Logger: logger})
	}
	httpSrv := server.NewHTTPServer(handler, lim, ctx)
	httpDone := make(chan error, 1)
	if ln != nil {
		go func() { httpDone <- httpSrv.Serve(lim) }()
		logger.Info(pctxlog.ListeningMsg, "url", "http://"+ln.Addr().String(), "mcp", "/mcp", "websocket", "/ws", "version", version)
		if cfg.UI.Enabled {
			logger.Info("dashboard", "url", "http://"+ln.Addr().String()+"/ui/", "playground", cfg.UI.Playground)
		}
		if o.listening != nil {
			o.listening("http://"+ln.Addr().String(), logger)
		}
	}

	var serveErr error
	if *stdio {
		logger.Info("serving MCP over stdio")
		serveErr = p.ServeStdio(ctx, stdin, stdout)
	} else {
		select {
		case <-ctx.Done():
		case serveErr = <-httpDone:
		}
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.Close()
	if ln != nil {
		_ = httpSrv.Shutdown(shutdownCtx)
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// stackFlags are the flags of the one-shot commands that connect the configured upstreams.
type stackFlags struct {
	fs               *flag.FlagSet
	config, logLevel *string
}

func addStackFlags(fs *flag.FlagSet) stackFlags {
	return stackFlags{
		fs:       fs,
		config:   fs.String("config", "", "config file (default: $PCTX_CONFIG, then ./pctx.toml, else built-in defaults)"),
		logLevel: fs.String("log-level", "warn", "log level on stderr: debug, info, warn, error"),
	}
}

// open loads the config and connects its upstreams. One-shot commands log at warn
// unless --log-level says otherwise: [log] level is for servers.
func (f stackFlags) open(ctx context.Context, stderr io.Writer) (*pctx.PCTX, func(), error) {
	cfg, err := pctx.LoadConfig(*f.config)
	if err != nil {
		return nil, nil, err
	}
	logger, closeLog, err := newLogger(stderr, cfg.Log, *f.logLevel, true)
	if err != nil {
		return nil, nil, err
	}
	p, err := pctx.New(ctx, cfg, &pctx.Options{Logger: logger, Version: version})
	if err != nil {
		closeLog()
		return nil, nil, err
	}
	return p, func() { _ = p.Close(); closeLog() }, nil
}

func cmdExec(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("exec", "pctx exec [--config F] [-e CODE | FILE | -]", stderr)
	sf := addStackFlags(fs)
	inline := fs.String("e", "", "the program to run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	code, err := programSource(*inline, fs.Args(), stdin)
	if err != nil {
		return err
	}
	st, closeStack, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer closeStack()
	res, err := st.Execute(ctx, code)
	if err != nil {
		return err
	}
	writeConsole(stderr, res.Console)
	if res.Error != nil {
		fmt.Fprintln(stderr, strings.TrimSuffix(res.Text(), "\n"))
		return errSilent
	}
	out, err := json.MarshalIndent(res.Value, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}

// programSource picks the program from -e, a file argument, or "-" for stdin.
func programSource(inline string, args []string, stdin io.Reader) (string, error) {
	switch {
	case inline != "" && len(args) > 0:
		return "", fmt.Errorf("%w: give the program with -e or as FILE, not both", errUsage)
	case inline != "":
		return inline, nil
	case len(args) == 0:
		return "", fmt.Errorf("%w: no program: use -e CODE, a FILE, or - for standard input", errUsage)
	case len(args) > 1:
		return "", fmt.Errorf("%w: one program at a time, got %d arguments", errUsage, len(args))
	case args[0] == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", fmt.Errorf("read standard input: %w", err)
		}
		return string(b), nil
	default:
		b, err := os.ReadFile(args[0])
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
}

func writeConsole(w io.Writer, lines []pctx.ConsoleLine) {
	for _, l := range lines {
		if l.Level == "log" || l.Level == "info" {
			fmt.Fprintln(w, l.Text)
		} else {
			fmt.Fprintf(w, "[%s] %s\n", l.Level, l.Text)
		}
	}
}

func cmdList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("list", "pctx list [--config F] [--namespace NS] [--query Q] [--details ns.fn,...]", stderr)
	sf := addStackFlags(fs)
	details := fs.String("details", "", "comma-separated functions to describe in full, as namespace.function")
	namespace := fs.String("namespace", "", "only this namespace")
	query := fs.String("query", "", "only functions matching these words")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, closeStack, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer closeStack()
	var text string
	if *details != "" {
		text, err = st.FunctionDetails(strings.Split(*details, ",")...)
	} else {
		text, err = st.ListFunctions(*namespace, *query)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, strings.TrimRight(text, "\n"))
	return err
}

// editablePath is the config file init/add/remove change: --config, $PCTX_CONFIG, or
// ./pctx.toml, whether or not it exists yet.
func editablePath(flagPath string) string {
	if flagPath != "" {
		return flagPath
	}
	if env := os.Getenv(config.EnvVar); env != "" {
		return env
	}
	return config.FileName
}

func cmdInit(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("init", "pctx init [--config F] [--force]", stderr)
	configFlag := fs.String("config", "", "file to write (default: $PCTX_CONFIG, then ./pctx.toml)")
	force := fs.Bool("force", false, "overwrite an existing file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path := editablePath(*configFlag)
	if err := config.Init(path, *force); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// keyValues is a repeatable KEY=VALUE flag.
type keyValues map[string]string

func (kv keyValues) String() string { return "" }

func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	kv[k] = v
	return nil
}

func cmdAdd(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("add", "pctx add [--config F] [--transport T] [--bearer-env VAR | --bearer TOKEN] [--header K=V]... [--env K=V]... [--scope S] NAME (URL | -- COMMAND [ARGS...])", stderr)
	configFlag := fs.String("config", "", "file to change (default: $PCTX_CONFIG, then ./pctx.toml)")
	transport := fs.String("transport", "", "for a URL: streamable-http or sse (default: try streamable HTTP, then SSE)")
	bearerEnv := fs.String("bearer-env", "", "for a URL: send Authorization: Bearer ${env:VAR}, the token read from environment variable VAR at start")
	bearer := fs.String("bearer", "", "for a URL: send Authorization: Bearer TOKEN (a plain token lands in the file as written; prefer --bearer-env)")
	scope := fs.String("scope", "", `"shared" (default: one instance for every client) or "session" (one per client session; ${session.id} names it in args, env and headers)`)
	headers, env := keyValues{}, keyValues{}
	fs.Var(headers, "header", "HTTP header for a URL server, KEY=VALUE (repeatable; values may use ${env:NAME})")
	fs.Var(env, "env", "environment variable for a command server, KEY=VALUE (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Flag parsing stops at NAME, so a command form arrives as NAME -- COMMAND ARGS...
	rest := fs.Args()
	if len(rest) < 2 {
		return fmt.Errorf("%w: want NAME and a URL, or NAME -- COMMAND [ARGS...]", errUsage)
	}
	u := config.Upstream{Name: rest[0], Scope: *scope}
	switch {
	case rest[1] == "--":
		if len(rest) < 3 {
			return fmt.Errorf("%w: no command after --", errUsage)
		}
		u.Command, u.Args = rest[2], rest[3:]
	case strings.HasPrefix(rest[1], "-"):
		return fmt.Errorf("%w: flags go before NAME (got %q after it)", errUsage, rest[1])
	case len(rest) != 2:
		return fmt.Errorf("%w: a URL server takes exactly NAME URL; put a command after --", errUsage)
	default:
		u.URL, u.Transport = rest[1], *transport
	}
	if *bearerEnv != "" || *bearer != "" {
		if err := addBearer(u, headers, *bearerEnv, *bearer, stderr, editablePath(*configFlag)); err != nil {
			return err
		}
	}
	if len(headers) > 0 {
		u.Headers = headers
	}
	if len(env) > 0 {
		u.Env = env
	}
	path := editablePath(*configFlag)
	if err := config.AddServer(path, u); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added server %q to %s\n", u.Name, path)
	return nil
}

func cmdRemove(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("remove", "pctx remove [--config F] NAME", stderr)
	configFlag := fs.String("config", "", "file to change (default: $PCTX_CONFIG, then ./pctx.toml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want exactly one server NAME", errUsage)
	}
	path := editablePath(*configFlag)
	if err := config.RemoveServer(path, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed server %q from %s\n", fs.Arg(0), path)
	return nil
}

// addBearer sets the Authorization header of a url server from --bearer-env or
// --bearer, warning when a plain token is about to be written to the file.
func addBearer(u config.Upstream, headers keyValues, env, token string, stderr io.Writer, path string) error {
	switch {
	case u.URL == "":
		return fmt.Errorf("%w: --bearer and --bearer-env apply to URL servers", errUsage)
	case env != "" && token != "":
		return fmt.Errorf("%w: give --bearer-env or --bearer, not both", errUsage)
	}
	for k := range headers {
		if strings.EqualFold(k, "Authorization") {
			return fmt.Errorf("%w: --header %s and --bearer set the same header", errUsage, k)
		}
	}
	if env != "" {
		if err := config.ValidEnvName(env); err != nil {
			return fmt.Errorf("%w: --bearer-env: %v", errUsage, err)
		}
		headers["Authorization"] = "Bearer ${env:" + env + "}"
		return nil
	}
	token = strings.TrimPrefix(strings.TrimSpace(token), "Bearer ")
	if !strings.Contains(token, "${") {
		fmt.Fprintf(stderr, "warning: the token is written to %s in plain text, readable by anyone who can read the file; "+
			"prefer --bearer-env VAR, or --header 'Authorization=Bearer ${keychain:SERVICE/ACCOUNT}' after pctx secret set SERVICE/ACCOUNT\n", path)
	}
	headers["Authorization"] = "Bearer " + token
	return nil
}
