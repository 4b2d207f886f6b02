package upstream

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/config"
)

func TestStdioCalls(t *testing.T) {
	reg := newFakeRegistry()
	dir := t.TempDir()
	cfg := fakeConfig(t, "fake", "basic")
	cfg.Env["FAKE_ENV"] = "from config"
	cfg.Cwd = dir
	m, _ := startManager(t, reg, testTuning, cfg)

	if st := statusOf(m, "fake"); st.State != StateReady || st.Transport != "stdio" || st.Tools != 15 {
		t.Fatalf("status = %+v, want ready stdio with 15 tools", st)
	}
	ns, _ := reg.get("fake")
	if ns.Description != "A fake upstream for tests." {
		t.Errorf("description = %q", ns.Description)
	}
	if got := string(reg.tool(t, "fake", "echo").InputSchema); !strings.Contains(got, `"description":"kept verbatim"`) {
		t.Errorf("input schema not kept verbatim: %s", got)
	}

	tests := []struct {
		tool    string
		args    map[string]any
		want    any
		wantErr string // substring; empty means success
		is      error
	}{
		{tool: "echo", args: map[string]any{"x": 1.0, "s": "a"}, want: map[string]any{"x": 1.0, "s": "a"}},
		{tool: "add", args: map[string]any{"a": 2.0, "b": 3.0}, want: map[string]any{"sum": 5.0}},
		{tool: "mixed", want: []any{1.0, map[string]any{"type": "image", "data": "aGk=", "mimeType": "image/png"}, "hello"}},
		{tool: "env", want: map[string]any{"env": "from config", "cwd": dir, "secret": "", "node": "", "path": true, "npm_token": ""}},
		{tool: "fail", args: map[string]any{"msg": "bad input"}, wantErr: `upstream "fake": tool "fail": boom: bad input`, is: ErrToolFailed},
		{tool: "badshape", wantErr: `upstream "fake": tool "badshape": failed to unmarshal response`},
		{tool: "nope", wantErr: `upstream "fake": tool "nope": `},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			var got any
			var err error
			if tt.tool == "nope" {
				// Not listed, so call through a listed tool's server directly.
				got, err = m.servers[0].call(context.Background(), "nope", nil)
			} else {
				got, err = reg.call(t, "fake", tt.tool, tt.args)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Fatalf("err = %v, want errors.Is %v", err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestStartFailuresLeaveOthersWorking(t *testing.T) {
	reg := newFakeRegistry()
	missing := fakeConfig(t, "missing", "basic")
	missing.Command = "/nonexistent/pctx-no-such-server"
	dies := fakeConfig(t, "dies", "exit-at-start")
	good := fakeConfig(t, "good", "basic")
	m, logs := startManager(t, reg, testTuning, missing, dies, good)

	for _, tt := range []struct{ name, reason string }{
		{"missing", `start "/nonexistent/pctx-no-such-server": fork/exec /nonexistent/pctx-no-such-server: no such file or directory`},
		{"dies", "exit status 7 (stderr: fatal: no configuration found)"},
	} {
		ns, ok := reg.get(tt.name)
		if !ok || !strings.Contains(ns.Unavailable, tt.reason) || len(ns.Tools) != 0 {
			t.Errorf("%s: namespace = %+v, want unavailable with %q", tt.name, ns, tt.reason)
		}
		if st := statusOf(m, tt.name); st.State != StateUnavailable || !strings.Contains(st.LastError, tt.reason) {
			t.Errorf("%s: status = %+v", tt.name, st)
		}
		if !strings.Contains(logs.String(), "upstream="+tt.name) {
			t.Errorf("%s: nothing logged", tt.name)
		}
	}
	if got, err := reg.call(t, "good", "add", map[string]any{"a": 1.0, "b": 1.0}); err != nil || !reflect.DeepEqual(got, map[string]any{"sum": 2.0}) {
		t.Fatalf("good server: %v, %v", got, err)
	}
}

func TestCrashMidCallRejectsAndReconnects(t *testing.T) {
	reg := newFakeRegistry()
	m, _ := startManager(t, reg, testTuning, fakeConfig(t, "crashy", "basic"))

	_, err := reg.call(t, "crashy", "crash", nil)
	if !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("err = %v, want ErrConnectionLost", err)
	}
	for _, want := range []string{`upstream "crashy"`, "connection lost", "exit status 3", "crashing on purpose"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	}
	eventually(t, "a new session", func() bool {
		st := statusOf(m, "crashy")
		return st.State == StateReady && st.Restarts == 1
	})
	if got, err := reg.call(t, "crashy", "echo", map[string]any{"ok": true}); err != nil || !reflect.DeepEqual(got, map[string]any{"ok": true}) {
		t.Fatalf("after reconnect: %v, %v", got, err)
	}
}

func TestCloseMidResponse(t *testing.T) {
	reg := newFakeRegistry()
	m, _ := startManager(t, reg, testTuning, fakeConfig(t, "half", "basic"))
	_, err := reg.call(t, "half", "half", nil)
	if !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), `upstream "half"`) {
		t.Fatalf("err = %v, want connection lost naming the server", err)
	}
	eventually(t, "a new session", func() bool {
		st := statusOf(m, "half")
		return st.State == StateReady && st.Restarts == 1
	})
}

func TestCallWhileDown(t *testing.T) {
	reg := newFakeRegistry()
	tune := testTuning
	tune.backoffMin, tune.backoffMax = time.Hour, time.Hour // stay down
	m, _ := startManager(t, reg, tune, fakeConfig(t, "down", "basic"))
	echo := reg.tool(t, "down", "echo")
	if _, err := reg.call(t, "down", "crash", nil); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("crash: %v", err)
	}
	eventually(t, "unavailable", func() bool { return statusOf(m, "down").State == StateUnavailable })
	// A function from an older snapshot rejects at once, naming the cause.
	_, err := echo.Call(context.Background(), nil)
	if !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err = %v", err)
	}
	if ns, _ := reg.get("down"); !strings.Contains(ns.Unavailable, "exit status 3") {
		t.Fatalf("namespace = %+v", ns)
	}
}

func TestTimeoutsAndCancellation(t *testing.T) {
	reg := newFakeRegistry()
	cfg := fakeConfig(t, "slow", "basic")
	cfg.Timeout = 200 * time.Millisecond // the calls below that must time out can end no other way
	m, logs := startManager(t, reg, testTuning, cfg)

	t.Run("hang", func(t *testing.T) {
		_, err := reg.call(t, "slow", "hang", nil)
		if !errors.Is(err, ErrTimeout) || err.Error() != `upstream "slow": tool "hang": timed out after 200ms` {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		_, err := reg.call(t, "slow", "garbage", nil)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(logs.String(), "not JSON") || !strings.Contains(logs.String(), "this is {not json") {
			t.Fatalf("garbage not logged:\n%s", logs)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		tool := reg.tool(t, "slow", "hang")
		done := make(chan error)
		go func() {
			_, err := tool.Call(ctx, nil)
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `upstream "slow": tool "hang"`) {
			t.Fatalf("err = %v", err)
		}
		// mcp-go tells the server (it logs to stderr, which we log).
		eventually(t, "notifications/cancelled reaching the server", func() bool {
			return strings.Contains(logs.String(), "cancelled request")
		})
	})
	t.Run("still serving", func(t *testing.T) {
		// The session that timed out still answers. An echo shares the 200 ms timeout,
		// which a busy machine can make it miss, so it may take more than one.
		eventually(t, "an echo through the session whose calls timed out", func() bool {
			_, err := reg.call(t, "slow", "echo", nil)
			return err == nil
		})
		if st := statusOf(m, "slow"); st.State != StateReady || st.Restarts != 0 {
			t.Fatalf("status = %+v, want the first session serving", st)
		}
	})
}

func TestResultSize(t *testing.T) {
	reg := newFakeRegistry()
	tune := testTuning
	tune.maxResultBytes = 12 << 20
	startManager(t, reg, tune, fakeConfig(t, "big", "basic"))

	got, err := reg.call(t, "big", "big", map[string]any{"n": float64(10 << 20)})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := got.(string); len(s) != 10<<20 {
		t.Fatalf("got %d bytes", len(s))
	}
	_, err = reg.call(t, "big", "big", map[string]any{"n": float64(13 << 20)})
	if !errors.Is(err, ErrResultTooLarge) || !strings.Contains(err.Error(), `upstream "big": tool "big": result too large`) {
		t.Fatalf("err = %v", err)
	}
	// The session survives: the oversized line was consumed, not fatal.
	if _, err := reg.call(t, "big", "echo", nil); err != nil {
		t.Fatal(err)
	}
}

func TestToolsListChanged(t *testing.T) {
	reg := newFakeRegistry()
	m, _ := startManager(t, reg, testTuning, fakeConfig(t, "dyn", "basic"))
	if _, err := reg.call(t, "dyn", "change", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the added tool", func() bool {
		ns, _ := reg.get("dyn")
		for _, tool := range ns.Tools {
			if tool.Name == "added" {
				return true
			}
		}
		return false
	})
	if st := statusOf(m, "dyn"); st.Tools != 16 {
		t.Fatalf("status tools = %d", st.Tools)
	}
}

func TestNotificationFlood(t *testing.T) {
	reg := newFakeRegistry()
	tune := testTuning
	tune.debounce = 200 * time.Millisecond
	m, _ := startManager(t, reg, tune, fakeConfig(t, "flood", "basic"))
	const n = 20000
	start := time.Now()
	if got, err := reg.call(t, "flood", "flood", map[string]any{"n": float64(n)}); err != nil || got != "flooded" {
		t.Fatalf("flood: %v, %v", got, err)
	}
	got, err := reg.call(t, "flood", "listcount", nil)
	if err != nil {
		t.Fatal(err)
	}
	// 10000 list_changed notifications coalesce: refreshes are at least a
	// debounce apart, so however long the flood took on this machine there
	// are at most that many of them plus one after it, plus the two pages of
	// the first listing (and one of slack).
	limit := 2 + int(time.Since(start)/tune.debounce) + 2
	if count := int(got.(map[string]any)["count"].(float64)); count > limit {
		t.Fatalf("%d tools/list calls for %d notifications in %v, want at most %d", count, n/2, time.Since(start), limit)
	}
	if st := statusOf(m, "flood"); st.State != StateReady || st.Restarts != 0 {
		t.Fatalf("status = %+v", st)
	}
}

func TestChildStopsReadingStdin(t *testing.T) {
	reg := newFakeRegistry()
	cfg := fakeConfig(t, "deaf", "deaf")
	cfg.Timeout = 2 * time.Second
	m, _ := startManager(t, reg, testTuning, cfg)
	// Bigger than the pipe's buffer, so the write itself blocks, and the call with it
	// (mcp-go writes without a deadline), until the write's deadline (the per-call
	// timeout from the write's start) kills the session: the call's own timeout, which
	// starts just before, is only looked at once the write has returned (it could come
	// first only if the caller stalled for the whole 2 s before writing).
	arg := map[string]any{"s": strings.Repeat("x", 1<<20)}
	_, err := reg.call(t, "deaf", "echo", arg)
	if !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("err = %v, want connection lost", err)
	}
	if !strings.Contains(err.Error(), `upstream "deaf": tool "echo"`) {
		t.Fatalf("err = %v", err)
	}
	eventually(t, "the stuck session replaced", func() bool { return statusOf(m, "deaf").Restarts >= 1 })
	if st := statusOf(m, "deaf"); !strings.Contains(st.LastError, "has not read its stdin") {
		t.Fatalf("status = %+v, want why the first session was replaced", st)
	}
}

// TestChildEnvironment: a command server sees pctx's PATH and NODE_*
// variables but not its other ones (secrets), nor npm registry credentials, unless
// inherit_env is set; its own env wins over pctx's.
func TestChildEnvironment(t *testing.T) {
	t.Setenv("PCTX_TEST_SECRET", "s3cret")
	t.Setenv("NODE_PCTX_TEST", "node")
	t.Setenv("FAKE_ENV", "from pctx")
	t.Setenv("NODE_AUTH_TOKEN", "npm_t0ken")
	t.Setenv("npm_config__authToken", "+npm_t0ken2")
	tests := []struct {
		inherit bool
		want    map[string]any
	}{
		{false, map[string]any{"secret": "", "node": "node", "path": true, "env": "from config", "npm_token": ""}},
		{true, map[string]any{"secret": "s3cret", "node": "node", "path": true, "env": "from config", "npm_token": "npm_t0ken+npm_t0ken2"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("inherit_env=", tt.inherit), func(t *testing.T) {
			cfg := fakeConfig(t, "fake", "basic")
			cfg.Env["FAKE_ENV"] = "from config"
			cfg.InheritEnv = tt.inherit
			reg := newFakeRegistry()
			startManager(t, reg, testTuning, cfg)
			got, err := reg.call(t, "fake", "env", nil)
			if err != nil {
				t.Fatal(err)
			}
			m := got.(map[string]any)
			delete(m, "cwd")
			if !reflect.DeepEqual(m, tt.want) {
				t.Fatalf("child sees %v, want %v", m, tt.want)
			}
		})
	}
}

// TestChildEnvCredentials: of the NODE_* and npm_config_* variables a command server gets
// by default, the registry credentials are withheld, whatever their case; inherit_env
// passes them, and the server's own env table may name one.
func TestChildEnvCredentials(t *testing.T) {
	environ := []string{
		"PATH=/bin", "HOME=/home/u",
		"NODE_OPTIONS=--max-old-space-size=512", "NODE_EXTRA_CA_CERTS=/ca.pem", "NODE_TLS_REJECT_UNAUTHORIZED=0",
		"npm_config_cache=/c", "npm_config_registry=https://r.example/", "NPM_CONFIG_PREFIX=/p", "npm_config_cafile=/ca.pem",
		"NODE_AUTH_TOKEN=t1", "NPM_CONFIG__AUTH=t2", "npm_config__auth=t3", "npm_config__authToken=t4", "NPM_CONFIG__AUTHTOKEN=t5",
		"npm_config_//registry.npmjs.org/:_authToken=t6", "NPM_CONFIG_//r.example/:_AUTH=t7", "npm_config_//r.example/:_password=t8",
		"npm_config_always_auth=true", "npm_config_key=-----BEGIN PRIVATE KEY-----", "npm_config_//r.example/:key=pem",
		"NODE_PRE_GYP_GITHUB_TOKEN=t9", "npm_config_otp=123456", "NPM_CONFIG_NPM_SECRET=t10",
		"GITHUB_TOKEN=t11", "PCTX_API_KEY=t12",
	}
	passed := []string{
		"PATH=/bin", "HOME=/home/u",
		"NODE_OPTIONS=--max-old-space-size=512", "NODE_EXTRA_CA_CERTS=/ca.pem", "NODE_TLS_REJECT_UNAUTHORIZED=0",
		"npm_config_cache=/c", "npm_config_registry=https://r.example/", "NPM_CONFIG_PREFIX=/p", "npm_config_cafile=/ca.pem",
		"npm_config_otp=123456",
	}
	if got := childEnv(config.Upstream{}, environ); !slices.Equal(got, passed) {
		t.Errorf("default environment:\n got %q\nwant %q", got, passed)
	}
	if got := childEnv(config.Upstream{InheritEnv: true}, environ); !slices.Equal(got, environ) {
		t.Errorf("inherit_env: got %q, want all of pctx's environment", got)
	}
	own := childEnv(config.Upstream{Env: map[string]string{"NODE_AUTH_TOKEN": "${env:NPM_TOKEN} expanded"}}, environ)
	if !slices.Contains(own, "NODE_AUTH_TOKEN=${env:NPM_TOKEN} expanded") || slices.Contains(own, "NODE_AUTH_TOKEN=t1") {
		t.Errorf("a credential named in the server's env: got %q", own)
	}
}
