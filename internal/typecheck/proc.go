package typecheck

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed globals.d.ts
var globalsDTS string

// compilerOptions are the options every program is checked with. They were chosen on the
// corpus under testdata/ (see TestCorpusOptions): strict mode's noImplicitAny,
// strictNullChecks and useUnknownInCatchVariables refuse ordinary, working agent code
// (an untyped helper parameter, r.items.map when items is optional, e.message in a
// catch), while the errors that matter here (a misspelled function or property, a
// wrong argument type, a missing required field) are errors without them.
var compilerOptions = map[string]any{
	"target":       "es2022",
	"lib":          libs,
	"types":        []string{},
	"noEmit":       true,
	"skipLibCheck": true,
	"strict":       false,
	"alwaysStrict": true,
	// Unreachable code and unused labels are suggestions, not errors.
	"allowUnreachableCode": true,
	"allowUnusedLabels":    true,
}

// libs is ES2022 less what goja lacks (Intl, SharedArrayBuffer and Atomics, WeakRef and
// FinalizationRegistry), plus ES2023's array methods, which it has; the ES2025 Set
// methods it also has are declared in globals.d.ts. TestLibMatchesRuntime runs both sides
// of this list in the real runtime.
var libs = []string{
	"es5", "es2015.core", "es2015.collection", "es2015.iterable", "es2015.generator",
	"es2015.promise", "es2015.proxy", "es2015.reflect", "es2015.symbol", "es2015.symbol.wellknown",
	"es2016.array.include",
	"es2017.arraybuffer", "es2017.date", "es2017.object", "es2017.string", "es2017.typedarrays",
	"es2018.asynciterable", "es2018.asyncgenerator", "es2018.promise", "es2018.regexp",
	"es2019.array", "es2019.object", "es2019.string", "es2019.symbol",
	"es2020.bigint", "es2020.date", "es2020.number", "es2020.promise", "es2020.string", "es2020.symbol.wellknown",
	"es2021.promise", "es2021.string",
	"es2022.array", "es2022.error", "es2022.object", "es2022.regexp", "es2022.string",
	"es2023.array",
}

// maxProjects bounds the catalogs (declaration sets) one process keeps open; the least
// recently used is closed past it.
const maxProjects = 8

// startTimeout bounds a process's start and warm-up check.
const startTimeout = 60 * time.Second

// maxFrameBytes bounds one message from tsgo.
const maxFrameBytes = 64 << 20

// proc is one tsgo --api process. Its methods are called by one goroutine at a time (the
// pool hands a process to one check), except kill, which the watchdogs call.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *headBuffer
	exited chan struct{} // closed when the process has exited
	dir    string

	seq      int
	early    map[int]*response // responses read before their request was waited for
	ignore   map[int]bool      // requests whose responses nobody waits for
	checks   int
	dead     bool   // must not be used again
	snapshot uint64 // the API snapshot this client holds, released at the next update
	projects map[string]*project
	chunks   map[string]int    // declaration file → open projects using it
	files    map[string]string // declaration text → its file, so a block is hashed once
	clock    uint64
	nextDir  int
	timeout  time.Duration
	maxMem   int64
	options  map[string]any // Options.compilerOptions

	mu     sync.Mutex
	reason string // why the parent killed it: "timeout", "canceled", "stopped"
}

// project is one declaration set opened as a tsconfig project: its config, the program
// file checks write, and the declaration files it lists.
type project struct {
	config, main string
	id           string
	chunks       []string
	used         uint64
}

func startProc(opts Options) (*proc, error) {
	dir, err := os.MkdirTemp(scratchRoot(), "pctx-typecheck-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	w := &proc{
		dir: dir, exited: make(chan struct{}), stderr: &headBuffer{max: 4 << 10},
		projects: map[string]*project{}, chunks: map[string]int{}, files: map[string]string{},
		early: map[int]*response{}, ignore: map[int]bool{},
		timeout: opts.Timeout, maxMem: opts.MaxMemory, options: opts.compilerOptions,
	}
	if err := errors.Join(os.WriteFile(filepath.Join(dir, "globals.d.ts"), []byte(globalsDTS), 0o600),
		os.Mkdir(filepath.Join(dir, "d"), 0o700)); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(opts.Tsgo, "--api", "--async", "--cwd", dir)
	cmd.Dir = dir
	cmd.Env = childEnv(opts.MaxMemory)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stderr = w.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", opts.Tsgo, err)
	}
	w.cmd, w.stdin, w.out = cmd, stdin, bufio.NewReaderSize(stdout, 64<<10)
	go func() {
		_ = cmd.Wait()
		close(w.exited)
	}()
	if err := limitData(cmd.Process.Pid, opts.MaxMemory); err != nil {
		w.stop()
		return nil, fmt.Errorf("memory limit: %w", err)
	}
	// Warm up: parse and bind the library, so that the first real check pays only for
	// its catalog and program. A busy machine may take a while: the limit is generous.
	w.timeout = max(opts.Timeout, startTimeout)
	if _, err := w.check(context.Background(), nil, ""); err != nil {
		w.stop()
		return nil, fmt.Errorf("%s: warm-up check: %w", opts.Tsgo, err)
	}
	w.timeout, w.checks = opts.Timeout, 0
	return w, nil
}

// scratchRoot is where checker processes keep their files: every check writes the
// program, so a memory file system (Linux's /dev/shm) when there is one; a disk-backed
// temporary directory measured 70 times slower for that write.
func scratchRoot() string {
	if runtime.GOOS == "linux" {
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			if f, err := os.CreateTemp("/dev/shm", "pctx-probe-"); err == nil {
				f.Close()
				os.Remove(f.Name())
				return "/dev/shm"
			}
		}
	}
	return ""
}

// childEnv is tsgo's whole environment: nothing of pctx's (secrets stay home), a soft
// Go memory limit below the hard one so the collector works before the kernel refuses.
func childEnv(maxMem int64) []string {
	env := []string{"GOMEMLIMIT=" + strconv.FormatInt(maxMem/4*3, 10)}
	for _, k := range []string{"PATH", "SYSTEMROOT", "TMPDIR", "TMP", "TEMP"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// kill ends the process for reason, unless it was already killed.
func (w *proc) kill(reason string) {
	w.mu.Lock()
	if w.reason == "" {
		w.reason = reason
	}
	w.mu.Unlock()
	killGroup(w.cmd.Process.Pid)
	_ = w.cmd.Process.Kill()
}

func (w *proc) killReason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reason
}

// stop ends the process (politely if it is idle: tsgo exits when its input closes) and
// removes its files.
func (w *proc) stop() {
	_ = w.stdin.Close()
	select {
	case <-w.exited:
	case <-time.After(time.Second):
		w.kill("stopped")
		<-w.exited
	}
	_ = os.RemoveAll(w.dir)
}

// check runs one check, killing the process if it takes longer than the timeout or ctx
// ends first. Any failure marks the process dead.
func (w *proc) check(ctx context.Context, decls []string, code string) ([]Diagnostic, error) {
	timer := time.AfterFunc(w.timeout, func() { w.kill("timeout") })
	defer timer.Stop()
	stop := context.AfterFunc(ctx, func() { w.kill("canceled") })
	defer stop()
	diags, err := w.run(decls, code)
	if err == nil {
		return diags, nil
	}
	w.dead = true
	switch w.killReason() {
	case "timeout":
		return nil, fmt.Errorf("%w: no answer within %v; the checker was stopped", ErrTimeout, w.timeout)
	case "canceled":
		return nil, ctx.Err()
	case "stopped":
		return nil, ErrClosed
	}
	// It died, or answered with an error (tsgo turns a panic in a request into one):
	// either way its state is suspect. Its last words say why.
	w.kill("crashed")
	select {
	case <-w.exited:
	case <-time.After(2 * time.Second):
	}
	return nil, fmt.Errorf("%w: %s", ErrCrashed, w.lastWords(err))
}

// lastWords explains a crash from what the process printed, or the protocol error.
func (w *proc) lastWords(err error) string {
	text := w.stderr.String()
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "panic:") {
			if strings.Contains(line, "out of memory") {
				return fmt.Sprintf("%s (the checker's memory limit is %d MiB)", line, w.maxMem>>20)
			}
			return line
		}
	}
	if w.cmd.ProcessState != nil && !w.cmd.ProcessState.Success() {
		return fmt.Sprintf("%v (%v)", err, w.cmd.ProcessState)
	}
	return err.Error()
}

// run is one check: write the program (and, for a new declaration set, its files and
// project), move the API snapshot forward, and ask for the program's diagnostics.
func (w *proc) run(decls []string, code string) ([]Diagnostic, error) {
	p, opened, err := w.project(decls)
	if err != nil {
		return nil, err
	}
	wrapped := wrap(code)
	if err := os.WriteFile(p.main, []byte(wrapped), 0o600); err != nil {
		return nil, err
	}
	params := map[string]any{}
	if opened {
		params["openProjects"] = []string{p.config}
	} else {
		params["fileChanges"] = map[string]any{"changed": []string{p.main}}
	}
	evict := w.evictee(p)
	if evict != nil {
		params["closeProjects"] = []string{evict.config}
	}
	var snap struct {
		Snapshot uint64 `json:"snapshot"`
		Projects []struct {
			ID             string `json:"id"`
			ConfigFileName string `json:"configFileName"`
		} `json:"projects"`
	}
	if err := w.call("updateSnapshot", params, &snap); err != nil {
		return nil, err
	}
	if w.snapshot != 0 {
		// Nothing waits for the release: its answer is dropped when it comes.
		id, err := w.send("release", map[string]any{"snapshot": w.snapshot})
		if err != nil {
			return nil, err
		}
		w.ignore[id] = true
	}
	w.snapshot = snap.Snapshot
	if evict != nil {
		w.forget(evict)
	}
	if p.id == "" {
		for _, sp := range snap.Projects {
			if filepath.Clean(sp.ConfigFileName) == p.config {
				p.id = sp.ID
			}
		}
		if p.id == "" {
			return nil, fmt.Errorf("tsgo did not open the project %s", p.config)
		}
	}
	// Both kinds of diagnostics are asked for at once (tsgo answers requests
	// concurrently); syntax errors, when there are any, are the ones to report.
	req := map[string]any{"snapshot": w.snapshot, "project": p.id, "file": p.main}
	synID, err := w.send("getSyntacticDiagnostics", req)
	if err != nil {
		return nil, err
	}
	semID, err := w.send("getSemanticDiagnostics", req)
	if err != nil {
		return nil, err
	}
	var syn, sem []rawDiagnostic
	if err := w.recv("getSyntacticDiagnostics", synID, &syn); err != nil {
		return nil, err
	}
	if err := w.recv("getSemanticDiagnostics", semID, &sem); err != nil {
		return nil, err
	}
	raw := sem
	if hasErrors(syn) {
		raw = syn
	}
	return diagnostics(code, raw), nil
}

// project returns the open project for decls, creating its files when it is new.
func (w *proc) project(decls []string) (*project, bool, error) {
	names := make([]string, len(decls))
	for i, d := range decls {
		name, ok := w.files[d]
		if !ok {
			sum := sha256.Sum256([]byte(d))
			name = filepath.Join(w.dir, "d", hex.EncodeToString(sum[:12])+".d.ts")
		}
		names[i] = name
	}
	key := strings.Join(names, "\n")
	w.clock++
	if p := w.projects[key]; p != nil {
		p.used = w.clock
		return p, false, nil
	}
	for i, name := range names {
		if w.chunks[name] == 0 {
			if err := os.WriteFile(name, []byte(decls[i]), 0o600); err != nil {
				return nil, false, err
			}
			w.files[decls[i]] = name
		}
		w.chunks[name]++
	}
	w.nextDir++
	dir := filepath.Join(w.dir, "p"+strconv.Itoa(w.nextDir))
	p := &project{config: filepath.Join(dir, "tsconfig.json"), main: filepath.Join(dir, "main.ts"), chunks: names, used: w.clock}
	files := append([]string{filepath.Join(w.dir, "globals.d.ts")}, names...)
	files = append(files, p.main)
	opts := compilerOptions
	if len(w.options) > 0 {
		opts = maps.Clone(compilerOptions)
		maps.Copy(opts, w.options)
	}
	cfg, err := json.Marshal(map[string]any{"compilerOptions": opts, "files": files})
	if err != nil {
		return nil, false, err
	}
	if err := errors.Join(os.Mkdir(dir, 0o700), os.WriteFile(p.config, cfg, 0o600)); err != nil {
		return nil, false, err
	}
	w.projects[key] = p
	return p, true, nil
}

// evictee is the least recently used project other than keep, once there are too many.
func (w *proc) evictee(keep *project) *project {
	if len(w.projects) <= maxProjects {
		return nil
	}
	var lru *project
	for _, p := range w.projects {
		if p != keep && (lru == nil || p.used < lru.used) {
			lru = p
		}
	}
	return lru
}

// forget drops a closed project and the declaration files no open project uses.
func (w *proc) forget(p *project) {
	for k, q := range w.projects {
		if q == p {
			delete(w.projects, k)
		}
	}
	_ = os.RemoveAll(filepath.Dir(p.config))
	for _, name := range p.chunks {
		if w.chunks[name]--; w.chunks[name] <= 0 {
			delete(w.chunks, name)
			_ = os.Remove(name)
			for text, n := range w.files {
				if n == name {
					delete(w.files, text)
				}
			}
		}
	}
}

// call sends one JSON-RPC request and waits for its response.
func (w *proc) call(method string, params, result any) error {
	id, err := w.send(method, params)
	if err != nil {
		return err
	}
	return w.recv(method, id, result)
}

// send writes one JSON-RPC request and returns its id.
func (w *proc) send(method string, params any) (int, error) {
	w.seq++
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": w.seq, "method": method, "params": params})
	if err != nil {
		return 0, err
	}
	if _, err := fmt.Fprintf(w.stdin, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		return 0, fmt.Errorf("%s: write: %w", method, err)
	}
	return w.seq, nil
}

// response is one JSON-RPC response from tsgo.
type response struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// recv reads until the response to request id, keeping those that arrive early for
// other requests and dropping those nobody waits for. tsgo sends nothing unasked in this
// mode (no file-system callbacks are enabled).
func (w *proc) recv(method string, id int, result any) error {
	msg, ok := w.early[id]
	delete(w.early, id)
	for !ok {
		frame, err := readFrame(w.out)
		if err != nil {
			return fmt.Errorf("%s: read: %w", method, err)
		}
		var m response
		if err := json.Unmarshal(frame, &m); err != nil {
			return fmt.Errorf("%s: bad message from tsgo: %w", method, err)
		}
		got, err := strconv.Atoi(string(m.ID))
		switch {
		case m.Method != "" || err != nil:
			continue
		case got == id:
			msg, ok = &m, true
		case w.ignore[got]:
			delete(w.ignore, got)
			if m.Error != nil {
				return fmt.Errorf("tsgo: %s", firstLine(m.Error.Message))
			}
		default:
			w.early[got] = &m
		}
	}
	if msg.Error != nil {
		return fmt.Errorf("%s: tsgo: %s", method, firstLine(msg.Error.Message))
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(msg.Result, result); err != nil {
		return fmt.Errorf("%s: bad result from tsgo: %w", method, err)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// readFrame reads one message in the LSP base protocol framing.
func readFrame(r *bufio.Reader) ([]byte, error) {
	n := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length:"); ok {
			if n, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				return nil, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	if n < 0 || n > maxFrameBytes {
		return nil, fmt.Errorf("message length %d out of range", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// headBuffer keeps the first max bytes written to it: a Go crash says why up front.
type headBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - h.b.Len(); room > 0 {
		h.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.b.String()
}
