package typecheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeEnv makes the test binary play tsgo (see TestMain): it speaks the API protocol
// and obeys markers in the program, so that hangs, crashes and panics of the checker can
// be tested without hunting for inputs that make the real compiler misbehave.
//
//	FAKE_HANG   never answers
//	FAKE_CRASH  prints "fatal error: fake crash" and exits
//	FAKE_PANIC  answers with an error, as tsgo does for a panic in a request
//	FAKE_ERROR  reports one diagnostic at the marker
//
// With the value "dead" it exits at once, as a broken installation would.
const fakeEnv = "PCTX_TYPECHECK_FAKE"

func TestMain(m *testing.M) {
	if log := os.Getenv(proxyEnv); log != "" {
		os.Exit(recordingProxy(log, os.Args[1:]))
	}
	switch os.Getenv(fakeEnv) {
	case "":
		os.Exit(m.Run())
	case "dead":
		fmt.Fprintln(os.Stderr, "fake tsgo: cannot start")
		os.Exit(1)
	default:
		os.Exit(fakeTsgo())
	}
}

// fakeChecker is a Checker whose tsgo is this test binary in the given fake mode.
func fakeChecker(t *testing.T, mode string, opts Options) *Checker {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// tsgo gets a minimal environment, so the mode travels in a wrapper script.
	script := filepath.Join(t.TempDir(), "tsgo")
	body := fmt.Sprintf("#!/bin/sh\n%s=%s exec %q \"$@\"\n", fakeEnv, mode, exe)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	opts.Tsgo = script
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func fakeTsgo() int {
	in := bufio.NewReader(os.Stdin)
	snap := 0
	main := ""
	for {
		frame, err := readFrame(in)
		if err != nil {
			return 0
		}
		var req struct {
			ID     int             `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(frame, &req); err != nil {
			return 3
		}
		var result any = true
		var fail string
		switch req.Method {
		case "updateSnapshot":
			var p struct {
				OpenProjects []string `json:"openProjects"`
				FileChanges  struct {
					Changed []string `json:"changed"`
				} `json:"fileChanges"`
			}
			_ = json.Unmarshal(req.Params, &p)
			config := ""
			if len(p.OpenProjects) > 0 {
				config = p.OpenProjects[0]
				main = filepath.Join(filepath.Dir(config), "main.ts")
			} else if len(p.FileChanges.Changed) > 0 {
				main = p.FileChanges.Changed[0]
				config = filepath.Join(filepath.Dir(main), "tsconfig.json")
			}
			text, _ := os.ReadFile(main)
			switch {
			case strings.Contains(string(text), "FAKE_HANG"):
				time.Sleep(time.Hour)
			case strings.Contains(string(text), "FAKE_CRASH"):
				fmt.Fprintln(os.Stderr, "fatal error: fake crash")
				return 2
			case strings.Contains(string(text), "FAKE_PANIC"):
				fail = "panic: fake panic\ngoroutine 1 [running]:"
			}
			snap++
			result = map[string]any{"snapshot": snap, "projects": []any{map[string]any{"id": config, "configFileName": config}}}
		case "getSemanticDiagnostics":
			text, _ := os.ReadFile(main)
			result = []any{}
			if i := strings.Index(string(text), "FAKE_ERROR"); i >= 0 {
				result = []any{map[string]any{"pos": i, "end": i + 10, "code": 2304, "category": 1, "text": "Cannot find name 'FAKE_ERROR'."}}
			}
		case "getSyntacticDiagnostics":
			result = []any{}
		}
		msg := map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result}
		if fail != "" {
			msg = map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": -32603, "message": fail}}
		}
		body, _ := json.Marshal(msg)
		fmt.Fprintf(os.Stdout, "Content-Length: %d\r\n\r\n%s", len(body), body)
	}
}

// proxyEnv makes the test binary a recording stdio proxy in front of an MCP server: it
// runs its arguments as the server and appends the name of every tools/call that passes
// to the file the variable names, so that a test can see what reached the backend.
const proxyEnv = "PCTX_TYPECHECK_PROXY_LOG"

func recordingProxy(log string, argv []string) int {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "recording proxy: no server command")
		return 2
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "recording proxy:", err)
		return 2
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "recording proxy:", err)
		return 2
	}
	go func() {
		defer in.Close()
		r := bufio.NewReader(os.Stdin)
		for {
			line, err := r.ReadBytes('\n')
			var msg struct {
				Method string `json:"method"`
				Params struct {
					Name string `json:"name"`
				} `json:"params"`
			}
			if json.Unmarshal(line, &msg) == nil && msg.Method == "tools/call" {
				if f, ferr := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); ferr == nil {
					fmt.Fprintln(f, msg.Params.Name)
					f.Close()
				}
			}
			if _, werr := in.Write(line); werr != nil || err != nil {
				return
			}
		}
	}()
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		return 1
	}
	return 0
}

// TestCloseDuringStart: a process whose start finishes after Close is dropped without a
// warning (a short `pctx exec` closes while its spare tsgo is still starting).
func TestCloseDuringStart(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	release := filepath.Join(dir, "release")
	// The fake tsgo starts only once the test has seen Close begin.
	script := filepath.Join(dir, "tsgo")
	body := fmt.Sprintf("#!/bin/sh\nwhile [ ! -e %q ]; do sleep 0.01; done\n%s=ok exec %q \"$@\"\n", release, fakeEnv, exe)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	c, err := New(Options{Tsgo: script, Processes: 1, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	for {
		c.p.mu.Lock()
		began := c.p.closed
		c.p.mu.Unlock()
		if began {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if strings.Contains(log.String(), "cannot start tsgo") {
		t.Errorf("Close during a start logged: %s", log.String())
	}
}
