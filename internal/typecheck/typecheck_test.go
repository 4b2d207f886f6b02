package typecheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const sumDecls = "declare namespace everything {\n  function get_sum(args: { a: number; b: number }): Promise<{ result: number }>;\n}\n"

func TestCheck(t *testing.T) {
	c := newChecker(t, Options{})
	decls := []string{sumDecls}
	tests := []struct {
		name string
		code string
		want []string // Diagnostic.String() prefixes: "line:col TScode"
		call string   // Call of the first diagnostic
	}{
		{"top-level await and return", "const r = await everything.get_sum({ a: 1, b: 2 });\nreturn r.result;", nil, ""},
		{"run convention", "async function run() {\n  return (await everything.get_sum({ a: 1, b: 2 })).result;\n}", nil, ""},
		{"empty program", "", nil, ""},
		{"a comment only", "// nothing to do", nil, ""},
		{"wrong property type", "const r = await everything.get_sum({ a: 1, b: \"2\" });", []string{"1:44 TS2322"}, "everything.get_sum"},
		{"first-line columns are the agent's", "let a: string = 5;", []string{"1:5 TS2322"}, ""},
		{"later lines", "\n\n  let a: string = 5;", []string{"3:7 TS2322"}, ""},
		{"non-ASCII before the error", "const s = \"żółw 🐢\"; let a: string = 5;", []string{"1:25 TS2322"}, ""},
		{"two errors in order", "let a: string = 5;\nlet b: number = \"x\";", []string{"1:5 TS2322", "2:5 TS2322"}, ""},
		{"unclosed call reports at the end", "await everything.get_sum({ a: 1, b: 2 }", []string{"1:40 TS1005"}, "everything.get_sum"},
		{"unclosed block", "if (true) {\n  return 1;", []string{"2:12 TS1005"}, ""},
		{"no DOM", "document.title = \"x\";", []string{"1:1 TS2584"}, ""},
		{"import is not available", "import fs from \"fs\";", []string{"1:1 TS1232"}, ""},
		{"typeof probes a missing namespace", "if (typeof github === \"undefined\") return typeof (slack);", nil, ""},
		{"but not a use after it", "const t = typeof x; return y;", []string{"1:28 TS2304"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags, err := c.Check(context.Background(), decls, tt.code)
			if err != nil {
				t.Fatal(err)
			}
			if len(diags) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(diags), len(tt.want), render(diags))
			}
			for i, d := range diags {
				if !strings.HasPrefix(d.String(), tt.want[i]+" ") {
					t.Errorf("error %d = %q, want %s", i, d, tt.want[i])
				}
			}
			if len(diags) > 0 && diags[0].Call != tt.call {
				t.Errorf("Call = %q, want %q", diags[0].Call, tt.call)
			}
		})
	}
}

// TestDeclarationSets checks programs against more catalogs than one process keeps open,
// so projects are closed and reopened, and declaration files shared between sets.
func TestDeclarationSets(t *testing.T) {
	c := newChecker(t, Options{Processes: 1})
	shared := "declare namespace shared {\n  function ping(): Promise<string>;\n}\n"
	for round := range 2 {
		for i := range maxProjects + 3 {
			own := fmt.Sprintf("declare namespace ns%d {\n  function f(x: number): Promise<number>;\n}\n", i)
			decls := []string{shared, own}
			ok := fmt.Sprintf("await shared.ping();\nreturn ns%d.f(%d);", i, round)
			if diags, err := c.Check(context.Background(), decls, ok); err != nil || len(diags) > 0 {
				t.Fatalf("round %d set %d: %v %s", round, i, err, render(diags))
			}
			// A namespace of another set is not visible.
			other := fmt.Sprintf("return ns%d.f(%d);", (i+1)%(maxProjects+3), round)
			diags, err := c.Check(context.Background(), decls, other)
			if err != nil || len(diags) != 1 || (diags[0].Code != 2304 && diags[0].Code != 2552) {
				t.Fatalf("round %d set %d: other set's namespace: %v %s", round, i, err, render(diags))
			}
		}
	}
	// Closed projects leave no files behind.
	for w := range c.p.all {
		dirs, _ := filepath.Glob(filepath.Join(w.dir, "p*"))
		chunks, _ := filepath.Glob(filepath.Join(w.dir, "d", "*"))
		if len(dirs) > maxProjects+1 || len(chunks) > maxProjects+2 {
			t.Errorf("%d project directories and %d declaration files on disk", len(dirs), len(chunks))
		}
	}
}

// TestConcurrentChecks runs more checks at once than there are processes, each with its
// own answer, so a mix-up between programs would show.
func TestConcurrentChecks(t *testing.T) {
	c := newChecker(t, Options{Processes: 2})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := fmt.Sprintf("const v%d: string = %d;", i, i)
			if i%2 == 0 {
				code = fmt.Sprintf("const v%d: number = %d;", i, i)
			}
			diags, err := c.Check(context.Background(), []string{sumDecls}, code)
			switch {
			case err != nil:
				errs <- err
			case i%2 == 0 && len(diags) != 0:
				errs <- fmt.Errorf("program %d: unexpected %s", i, render(diags))
			case i%2 == 1 && (len(diags) != 1 || !strings.Contains(diags[0].Message, "'number' is not assignable to type 'string'")):
				errs <- fmt.Errorf("program %d: %s", i, render(diags))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHostileParentheses is the acceptance case: "(" a million times costs one refused
// check, and the next check runs normally on a fresh process.
func TestHostileParentheses(t *testing.T) {
	c := newChecker(t, Options{Processes: 1, MaxMemory: 256 << 20})
	before := c.PIDs()
	_, err := c.Check(context.Background(), []string{sumDecls}, strings.Repeat("(", 1_000_000))
	if !errors.Is(err, ErrCrashed) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrCrashed or ErrTimeout", err)
	}
	t.Logf("refused: %v", err)
	diags, err := c.Check(context.Background(), []string{sumDecls}, "let a: string = 5;")
	if err != nil || len(diags) != 1 {
		t.Fatalf("next check: %v %s", err, render(diags))
	}
	if after := c.PIDs(); len(after) != 1 || len(before) == 1 && after[0] == before[0] {
		t.Errorf("processes before %v, after %v: want a new one", before, after)
	}
}

func TestCheckerFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("hang is a timeout, then checks go on", func(t *testing.T) {
		c := fakeChecker(t, "serve", Options{Processes: 1, Timeout: 300 * time.Millisecond})
		if _, err := c.Check(ctx, nil, "FAKE_HANG"); !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		diags, err := c.Check(ctx, nil, "x;\nFAKE_ERROR")
		if err != nil || len(diags) != 1 || diags[0].Line != 2 || diags[0].Column != 1 {
			t.Fatalf("after the timeout: %v %s", err, render(diags))
		}
	})
	t.Run("crash names its last words", func(t *testing.T) {
		c := fakeChecker(t, "serve", Options{Processes: 1})
		_, err := c.Check(ctx, nil, "FAKE_CRASH")
		if !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), "fatal error: fake crash") {
			t.Fatalf("err = %v", err)
		}
		if diags, err := c.Check(ctx, nil, "fine"); err != nil || len(diags) != 0 {
			t.Fatalf("after the crash: %v %s", err, render(diags))
		}
	})
	t.Run("a panic answer replaces the process", func(t *testing.T) {
		c := fakeChecker(t, "serve", Options{Processes: 1})
		before := c.PIDs()
		_, err := c.Check(ctx, nil, "FAKE_PANIC")
		if !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), "panic: fake panic") {
			t.Fatalf("err = %v", err)
		}
		if _, err := c.Check(ctx, nil, "fine"); err != nil {
			t.Fatal(err)
		}
		if after := c.PIDs(); len(after) != 1 || len(before) == 1 && before[0] == after[0] {
			t.Errorf("processes before %v, after %v", before, after)
		}
	})
	t.Run("cancelled check", func(t *testing.T) {
		c := fakeChecker(t, "serve", Options{Processes: 1})
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := c.Check(cctx, nil, "FAKE_HANG"); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if _, err := c.Check(ctx, nil, "fine"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("tsgo that does not start", func(t *testing.T) {
		c := fakeChecker(t, "dead", Options{Processes: 1})
		_, err := c.Check(ctx, nil, "fine")
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("missing tsgo", func(t *testing.T) {
		c, err := New(Options{Tsgo: filepath.Join(t.TempDir(), "nope"), Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Check(ctx, nil, "fine"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("processes are recycled", func(t *testing.T) {
		c := fakeChecker(t, "serve", Options{Processes: 1, MaxChecks: 3})
		seen := map[int]bool{}
		for i := range 7 {
			if _, err := c.Check(ctx, nil, fmt.Sprintf("fine %d", i)); err != nil {
				t.Fatal(err)
			}
			for _, pid := range c.PIDs() {
				seen[pid] = true
			}
		}
		if len(seen) < 3 {
			t.Errorf("%d processes served 7 checks with MaxChecks 3", len(seen))
		}
	})
	t.Run("close", func(t *testing.T) {
		c := fakeChecker(t, "serve", Options{Processes: 1})
		done := make(chan error, 1)
		go func() {
			_, err := c.Check(ctx, nil, "FAKE_HANG")
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		_ = c.Close()
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Fatalf("check in flight: %v, want ErrClosed", err)
		}
		if _, err := c.Check(ctx, nil, "fine"); !errors.Is(err, ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
	})
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tsgo")
	if err := os.WriteFile(bin, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	// An npm layout: the launcher script and the platform package beside it.
	nm := filepath.Join(dir, "node_modules", "@typescript")
	launcher := filepath.Join(nm, "native-preview", "bin", "tsgo")
	native := filepath.Join(nm, "native-preview-"+npmPlatform(), "lib", "tsgo")
	for _, p := range []string{launcher, native} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.WriteFile(launcher, []byte("#!/usr/bin/env node\n"), 0o755)
	_ = os.WriteFile(native, []byte("\x7fELF"), 0o755)
	link := filepath.Join(dir, "node_modules", ".bin", "tsgo")
	_ = os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink("../@typescript/native-preview/bin/tsgo", link); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(dir, "orphan")
	_ = os.WriteFile(orphan, []byte("#!/bin/sh\n"), 0o755)

	t.Setenv("PATH", "")
	t.Setenv(EnvVar, "")
	tests := []struct {
		name, configured, env, want, wantErr string
	}{
		{"configured", bin, "", bin, ""},
		{"configured wins over the env", bin, launcher, bin, ""},
		{"env", "", bin, bin, ""},
		{"npm launcher", launcher, "", native, ""},
		{"npm .bin link", "", link, native, ""},
		{"missing", filepath.Join(dir, "nope"), "", "", "is not a file"},
		{"script without a native binary", orphan, "", "", "is a script"},
		{"nothing anywhere", "", "", "", "looked at $PCTX_TSGO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvVar, tt.env)
			got, err := Find(tt.configured)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrNotFound containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Find = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestBesideCandidates: the layouts of the release files, each found from its pctx (an
// archive or npm package: tsgo/ beside it; a wheel: PREFIX/bin/pctx and
// PREFIX/lib/pctx/tsgo/), and tsgo beside pctx wins over tsgo/ and lib/.
func TestBesideCandidates(t *testing.T) {
	exe, tsgo := "pctx", "tsgo"
	if runtime.GOOS == "windows" {
		exe, tsgo = "pctx.exe", "tsgo.exe"
	}
	first := func(pctx string) string {
		for _, p := range besideCandidates(pctx) {
			if isFile(p) {
				return p
			}
		}
		return ""
	}
	put := func(p string) string {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("\x7fELF"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive")
	put(filepath.Join(archive, exe))
	inDir := put(filepath.Join(archive, "tsgo", tsgo))
	wheel := filepath.Join(dir, "venv")
	put(filepath.Join(wheel, "bin", exe))
	inLib := put(filepath.Join(wheel, "lib", "pctx", "tsgo", tsgo))
	if got := first(filepath.Join(archive, exe)); got != inDir {
		t.Errorf("archive layout: found %q, want %q", got, inDir)
	}
	if got := first(filepath.Join(wheel, "bin", exe)); got != inLib {
		t.Errorf("wheel layout: found %q, want %q", got, inLib)
	}
	beside := put(filepath.Join(wheel, "bin", tsgo))
	if got := first(filepath.Join(wheel, "bin", exe)); got != beside {
		t.Errorf("tsgo beside pctx: found %q, want it first", got)
	}
	if got := first(filepath.Join(dir, "elsewhere", exe)); got != "" {
		t.Errorf("no release layout: found %q", got)
	}
}

func TestNoCheck(t *testing.T) {
	for code, want := range map[string]bool{
		"// @ts-nocheck\nreturn 1":                  true,
		"\n  //@ts-nocheck because\nx":              true,
		"/* header */\n// @ts-nocheck\nx":           true,
		"// first\n// @ts-nocheck\nx":               true,
		"x; // @ts-nocheck":                         false,
		"const s = \"// @ts-nocheck\"":              false,
		"// @ts-check":                              false,
		"/* unterminated // @ts-nocheck":            false,
		"// @ts-nocheckers are not a thing\nreturn": true, // as TypeScript reads it
	} {
		if got := NoCheck(code); got != want {
			t.Errorf("NoCheck(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestScanCalls(t *testing.T) {
	code := "await a.f(1, b.g(\"(\", `${c.h(2)})`), /[(]/.test(x)) + d.e.k(3) // x.y(\n"
	spans := scanCalls(code)
	var names []string
	for _, s := range spans {
		names = append(names, s.name)
	}
	// d.e.k( is not a namespace's function; the regexp's and the comment's parentheses
	// are not calls.
	if strings.Join(names, ",") != "a.f,b.g,c.h" {
		t.Errorf("calls = %v", names)
	}
	if name := callAt(spans, strings.Index(code, "2)")); name != "c.h" {
		t.Errorf("innermost call at 2 = %q", name)
	}
	if name := callAt(spans, strings.Index(code, "\"(\"")); name != "b.g" {
		t.Errorf("call at the string = %q", name)
	}
	if name := callAt(spans, strings.Index(code, "d.e")); name != "" {
		t.Errorf("call outside = %q", name)
	}
}

// TestResultCache: a program checked again against the same declarations is answered
// without a process; a change to either is checked anew.
func TestResultCache(t *testing.T) {
	c := fakeChecker(t, "serve", Options{Processes: 1})
	ctx := context.Background()
	checks := func() int {
		n := 0
		for w := range c.p.all {
			n += w.checks
		}
		return n
	}
	for range 3 {
		diags, err := c.Check(ctx, []string{"a"}, "x;\nFAKE_ERROR")
		if err != nil || len(diags) != 1 || diags[0].Line != 2 {
			t.Fatalf("%v %s", err, render(diags))
		}
		diags[0].Line = 99 // a caller's change does not reach the cache
	}
	if n := checks(); n != 1 {
		t.Fatalf("%d checks for one program checked three times", n)
	}
	if _, err := c.Check(ctx, []string{"b"}, "x;\nFAKE_ERROR"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, []string{"a"}, "y;\nFAKE_ERROR"); err != nil {
		t.Fatal(err)
	}
	if n := checks(); n != 3 {
		t.Fatalf("%d checks, want 3: other declarations or code are checked", n)
	}
}

// TestWarm: after Warm every process has the declarations open, so the next check on
// any of them only checks the program.
func TestWarm(t *testing.T) {
	c := newChecker(t, Options{Processes: 2})
	decls := []string{sumDecls}
	c.Warm(decls)
	deadline := time.Now().Add(time.Minute)
	for {
		// Holding every idle process (none is busy once the warm-ups are done) makes
		// their state safe to read.
		var held []*proc
		for range 2 {
			select {
			case w := <-c.p.idle:
				held = append(held, w)
			case <-time.After(time.Second):
			}
		}
		warm := 0
		for _, w := range held {
			if w == nil {
				continue
			}
			for _, p := range w.projects {
				if len(p.chunks) == 1 {
					warm++
				}
			}
		}
		for _, w := range held {
			c.p.idle <- w
		}
		if warm == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 processes warm", warm)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWarmConcurrently: warm-ups requested in a burst (a catalog changing several times)
// neither deadlock the pool nor keep checks from running.
func TestWarmConcurrently(t *testing.T) {
	c := fakeChecker(t, "serve", Options{Processes: 2})
	for i := range 20 {
		c.Warm([]string{fmt.Sprintf("declare const v%d: number;", i)})
	}
	for i := range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := c.Check(ctx, nil, fmt.Sprintf("program %d", i))
		cancel()
		if err != nil {
			t.Fatalf("check %d after a burst of warm-ups: %v", i, err)
		}
	}
}
