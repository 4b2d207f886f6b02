// Command pctx is a Code Mode MCP server: agents see a few tools (execute_typescript, and
// list_functions, execute_bash or one per function, as the disclosure says) and write one
// TypeScript program that calls functions from upstream MCP servers and SDK workers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `pctx — a Code Mode MCP server

Usage:
  pctx start   [--config F] [--stdio] [--http ADDR] [--log-level L]   serve MCP (HTTP /mcp, or stdio) and the SDK websocket /ws
  pctx dev     [--config F] [--http ADDR] [--no-open]                 serve over HTTP with the dashboard (/ui) and its playground, and open it
  pctx exec    [--config F] [-e CODE | FILE | -]                      run a TypeScript program once and print its result as JSON
  pctx list    [--config F] [--details ns.fn,...] [--query Q]         print what list_functions (or get_function_details) shows
  pctx init    [--config F] [--force]                                 write a starter pctx.toml
  pctx add     NAME (URL | -- COMMAND [ARGS...])                      add an upstream MCP server to pctx.toml
  pctx remove  NAME                                                   remove an upstream MCP server from pctx.toml
  pctx auth    login NAME | status | logout NAME                      OAuth logins for upstream servers (pctx auth --help)
  pctx secret  set | delete SERVICE/ACCOUNT                           values for ${keychain:SERVICE/ACCOUNT}
  pctx version                                                        print the version

Config lookup: --config, then $PCTX_CONFIG, then ./pctx.toml; with none, built-in defaults.
Run "pctx COMMAND --help" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one CLI invocation and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if args[0] == "__sandbox" {
		// Workers are pctx processes started by pctx with the sandbox's environment (the
		// package's init runs them before main); the argument only names them in ps.
		fmt.Fprintln(stderr, "pctx: __sandbox is started by pctx itself, not by hand")
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Reader, io.Writer, io.Writer) error{
		"start":   cmdStart,
		"dev":     cmdDev,
		"exec":    cmdExec,
		"list":    cmdList,
		"init":    cmdInit,
		"add":     cmdAdd,
		"remove":  cmdRemove,
		"auth":    cmdAuth,
		"secret":  cmdSecret,
		"version": cmdVersion,
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "--version", "-v":
		name = "version"
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "pctx: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdin, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "pctx %s: %v\n", name, err)
		return 2
	case errors.Is(err, errSilent):
		return 1
	default:
		fmt.Fprintf(stderr, "pctx %s: %v\n", name, err)
		return 1
	}
}

var (
	errHelp   = errors.New("help shown")
	errUsage  = errors.New("usage")
	errSilent = errors.New("failure already reported")
)

func cmdVersion(_ context.Context, _ []string, _ io.Reader, stdout, _ io.Writer) error {
	fmt.Fprintf(stdout, "pctx %s\n", version)
	return nil
}
