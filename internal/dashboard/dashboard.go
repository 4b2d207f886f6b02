// Package dashboard is pctx's live dashboard at /ui: recent executions with their call
// waterfall, the catalog with each function's TypeScript, the SDK workers and upstream
// servers, and (when enabled) a playground that runs a program.
//
// The page is plain HTML, CSS and a little JavaScript, embedded in the binary. It holds
// no data: everything comes from /ui/api/*, which the server mounts behind the same API
// key, Host and Origin checks as /mcp. The browser long-polls for new executions.
//
// Threading: a *Dashboard is safe for concurrent use; Observe is called by every
// execution.
package dashboard

import (
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
)

//go:embed assets
var assets embed.FS

// Options configures a Dashboard. A nil *Options is valid and means every default.
type Options struct {
	Name, Version string // shown in the header; defaults "pctx" and "dev"
	// History is how many executions are kept, newest first; default 100.
	History int
	// Playground lets POST /ui/api/execute run programs; default off.
	Playground bool
	// Upstreams and Workers report the backends' state; nil shows none.
	Upstreams func() []Upstream
	Workers   func() []Worker
	// Sandbox reports the sandbox worker processes executions run in; nil shows none.
	Sandbox func() Sandbox
	// MaxStoredBytes bounds each of an execution's code, value and console as kept for
	// the dashboard; default 64 KiB. Longer ones are cut and marked.
	MaxStoredBytes int
	// PollWait is how long a long poll waits for a new execution; default 25 s.
	PollWait time.Duration
}

// Upstream is one configured upstream MCP server's state.
type Upstream struct {
	Name      string `json:"name"`
	Transport string `json:"transport,omitempty"`
	State     string `json:"state"`
	Tools     int    `json:"tools"`
	LastError string `json:"lastError,omitempty"`
	Restarts  int    `json:"restarts"`
}

// Sandbox is the pool of sandbox worker processes.
type Sandbox struct {
	Workers  int   `json:"workers"`  // alive
	Busy     int   `json:"busy"`     // running executions
	Started  int64 `json:"started"`  // since start
	Crashed  int64 `json:"crashed"`  // died while running executions
	Recycled int64 `json:"recycled"` // retired after their share of executions or memory
}

// Worker is one connected SDK worker.
type Worker struct {
	ID            string    `json:"id"`
	Client        string    `json:"client,omitempty"`
	RemoteAddr    string    `json:"remoteAddr,omitempty"`
	ConnectedAt   time.Time `json:"connectedAt"`
	Namespaces    []string  `json:"namespaces"`
	Session       []string  `json:"session,omitempty"`
	CallsInFlight int       `json:"callsInFlight"`
}

// Dashboard keeps recent executions and serves /ui.
type Dashboard struct {
	cm       *codemode.Service
	opts     Options
	full     http.Handler
	readOnly http.Handler

	mu      sync.Mutex
	recent  []*entry      // newest last; at most opts.History
	changed chan struct{} // closed at the next Observe
}

// entry is one execution as kept: its record with the big parts cut.
type entry struct {
	rec     *codemode.Record
	code    string
	value   json.RawMessage
	console []consoleLine
	cut     []string // which parts were cut
}

type consoleLine struct {
	Level string `json:"level"`
	Text  string `json:"text"`
}

// New returns a dashboard over cm (the catalog and, with Playground, executions).
func New(cm *codemode.Service, opts *Options) *Dashboard {
	d := &Dashboard{cm: cm, changed: make(chan struct{})}
	if opts != nil {
		d.opts = *opts
	}
	if d.opts.Name == "" {
		d.opts.Name = "pctx"
	}
	if d.opts.Version == "" {
		d.opts.Version = "dev"
	}
	if d.opts.History <= 0 {
		d.opts.History = 100
	}
	if d.opts.MaxStoredBytes <= 0 {
		d.opts.MaxStoredBytes = 64 << 10
	}
	if d.opts.PollWait <= 0 {
		d.opts.PollWait = 25 * time.Second
	}
	d.full = d.handler(d.opts.Playground)
	d.readOnly = d.handler(false)
	return d
}

// Handler serves /ui/ (the page) and /ui/api/ (its data). The caller applies
// authentication to /ui/api/ and the Host and Origin checks to both.
func (d *Dashboard) Handler() http.Handler { return d.full }

// ReadOnlyHandler is Handler without the playground, whatever Options.Playground says.
func (d *Dashboard) ReadOnlyHandler() http.Handler { return d.readOnly }

func (d *Dashboard) handler(playground bool) http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix("/ui/", noStore(http.FileServerFS(static)))
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /ui/api/state", func(w http.ResponseWriter, r *http.Request) { d.state(w, playground) })
	mux.HandleFunc("GET /ui/api/executions", d.executions)
	mux.HandleFunc("GET /ui/api/executions/{id}", d.execution)
	mux.HandleFunc("GET /ui/api/catalog", d.catalog)
	mux.HandleFunc("GET /ui/api/details", d.details)
	mux.HandleFunc("POST /ui/api/execute", func(w http.ResponseWriter, r *http.Request) {
		if !playground {
			apiError(w, http.StatusForbidden, "the playground is off: set [ui] playground = true (pctx dev turns it on); beside --stdio it also needs [server] api_key")
			return
		}
		d.execute(w, r)
	})
	mux.HandleFunc("/ui/api/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, fmt.Sprintf("%s %s: no such endpoint", r.Method, r.URL.Path))
	})
	return mux
}

// Observe keeps rec as the newest execution. codemode calls it once per execution.
func (d *Dashboard) Observe(rec *codemode.Record) {
	e := d.keep(rec)
	d.mu.Lock()
	d.recent = append(d.recent, e)
	if n := len(d.recent) - d.opts.History; n > 0 {
		clear(d.recent[:n])
		d.recent = d.recent[n:]
	}
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
}

func (d *Dashboard) keep(rec *codemode.Record) *entry {
	max := d.opts.MaxStoredBytes
	e := &entry{rec: rec, code: rec.Code}
	if len(e.code) > max {
		e.code, e.cut = cutUTF8(e.code, max), append(e.cut, "code")
	}
	if res := rec.Result; res != nil {
		if res.Value != nil {
			v, err := json.Marshal(res.Value)
			switch {
			case err != nil:
				v, _ = json.Marshal(fmt.Sprintf("(not JSON: %v)", err))
			case len(v) > max:
				v, _ = json.Marshal(cutUTF8(string(v), max) + "…")
				e.cut = append(e.cut, "value")
			}
			e.value = v
		}
		left := max
		for _, l := range res.Console {
			if left <= 0 {
				e.cut = append(e.cut, "console")
				break
			}
			text := l.Text
			if len(text) > left {
				text = cutUTF8(text, left)
			}
			left -= len(text)
			e.console = append(e.console, consoleLine{l.Level, text})
		}
	}
	// The record's result is not kept: the parts above replace it.
	copyRec := *rec
	copyRec.Code, copyRec.Result = "", nil
	if res := rec.Result; res != nil {
		r := *res
		r.Value, r.Console = nil, nil
		copyRec.Result = &r
	}
	e.rec = &copyRec
	return e
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// The page loads only its own files: no CDN, no inline script.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (d *Dashboard) state(w http.ResponseWriter, playground bool) {
	snap := d.cm.Catalog().Snapshot()
	spaces, fns := snap.Size()
	out := map[string]any{
		"name": d.opts.Name, "version": d.opts.Version, "playground": playground,
		"catalog":   map[string]int{"namespaces": spaces, "functions": fns},
		"upstreams": []Upstream{}, "workers": []Worker{},
	}
	if d.opts.Upstreams != nil {
		if u := d.opts.Upstreams(); u != nil {
			out["upstreams"] = u
		}
	}
	if d.opts.Workers != nil {
		if ws := d.opts.Workers(); ws != nil {
			out["workers"] = ws
		}
	}
	if d.opts.Sandbox != nil {
		out["sandbox"] = d.opts.Sandbox()
	}
	writeJSON(w, http.StatusOK, out)
}

// summary is an execution in the list.
type summary struct {
	ID         uint64    `json:"id"`
	Session    string    `json:"session"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMs float64   `json:"durationMs"`
	Calls      int       `json:"calls"`
	ErrorKind  string    `json:"errorKind,omitempty"`
	CodeHead   string    `json:"codeHead"`
	TraceID    string    `json:"traceId,omitempty"`
}

func (e *entry) summary() summary {
	s := summary{ID: e.rec.ID, Session: e.rec.Session, StartedAt: e.rec.Started, TraceID: e.rec.TraceID, CodeHead: codeHead(e.code)}
	if r := e.rec.Result; r != nil {
		s.DurationMs = float64(r.Duration.Microseconds()) / 1000
		s.Calls = r.Calls
		if r.Error != nil {
			s.ErrorKind = string(r.Error.Kind)
		}
	}
	return s
}

// codeHead is the first non-empty line of code, cut to 120 bytes.
func codeHead(code string) string {
	for _, l := range strings.Split(code, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return cutUTF8(l, 120)
		}
	}
	return ""
}

// executions lists the kept executions, newest first. ?after=ID&wait=1 waits (up to
// PollWait) until there is one newer than ID.
func (d *Dashboard) executions(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	wait := r.URL.Query().Get("wait") != ""
	timer := time.NewTimer(d.opts.PollWait)
	defer timer.Stop()
	for {
		d.mu.Lock()
		list := make([]summary, 0, len(d.recent))
		for i := len(d.recent) - 1; i >= 0; i-- {
			list = append(list, d.recent[i].summary())
		}
		changed := d.changed
		d.mu.Unlock()
		if !wait || (len(list) > 0 && list[0].ID > after) {
			writeJSON(w, http.StatusOK, map[string]any{"executions": list})
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			wait = false
		case <-r.Context().Done():
			return
		}
	}
}

func (d *Dashboard) find(id uint64) *entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.recent {
		if e.rec.ID == id {
			return e
		}
	}
	return nil
}

// execution is one kept execution in full: code, value, console, error and calls.
func (d *Dashboard) execution(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		apiError(w, http.StatusBadRequest, "execution id: want a number")
		return
	}
	e := d.find(id)
	if e == nil {
		apiError(w, http.StatusNotFound, fmt.Sprintf("execution %d is not kept (the dashboard keeps the last %d)", id, d.opts.History))
		return
	}
	writeJSON(w, http.StatusOK, e.full())
}

func (e *entry) full() map[string]any {
	out := codemode.Structured(e.rec)
	out["id"] = e.rec.ID
	out["session"] = e.rec.Session
	out["code"] = e.code
	out["console"] = e.console
	if e.console == nil {
		out["console"] = []consoleLine{}
	}
	out["value"] = e.value
	if e.value == nil {
		out["value"] = nil
	}
	if len(e.cut) > 0 {
		out["cut"] = e.cut
	}
	return out
}

// catalog lists the namespaces with their functions and the listing text of each.
func (d *Dashboard) catalog(w http.ResponseWriter, _ *http.Request) {
	snap, err := d.cm.Snapshot() // named as agents call them
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	type fn struct {
		Name        string `json:"name"`
		Original    string `json:"original,omitempty"`
		Unvalidated string `json:"unvalidated,omitempty"`
	}
	type ns struct {
		Name        string `json:"name"`
		Original    string `json:"original,omitempty"`
		Owner       string `json:"owner"`
		Unavailable string `json:"unavailable,omitempty"`
		Listing     string `json:"listing"`
		Functions   []fn   `json:"functions"`
	}
	out := []ns{}
	for _, n := range snap.Namespaces() {
		item := ns{Name: n.Name, Owner: n.Owner, Unavailable: n.Unavailable, Functions: []fn{},
			Listing: snap.List(catalog.ListOptions{Namespace: n.Name})}
		if n.Original != n.Name {
			item.Original = n.Original
		}
		for _, f := range n.Functions {
			x := fn{Name: f.Name, Unvalidated: f.Unvalidated}
			if f.Original != f.Name {
				x.Original = f.Original
			}
			item.Functions = append(item.Functions, x)
		}
		out = append(out, item)
	}
	writeJSON(w, http.StatusOK, map[string]any{"namespaces": out})
}

// details is get_function_details' text for ?fn=ns.fn (repeatable).
func (d *Dashboard) details(w http.ResponseWriter, r *http.Request) {
	text, err := d.cm.FunctionDetails(r.URL.Query()["fn"])
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"text": text})
}

// maxPlaygroundBytes bounds a playground program, as /mcp bounds a request body.
const maxPlaygroundBytes = 1 << 20

// execute runs the playground's program and answers with its full record.
func (d *Dashboard) execute(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Code string `json:"code"`
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPlaygroundBytes))
	if err == nil {
		err = json.Unmarshal(data, &body)
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("program larger than %d bytes", maxPlaygroundBytes))
			return
		}
		apiError(w, http.StatusBadRequest, `want {"code": "..."}: `+err.Error())
		return
	}
	if strings.TrimSpace(body.Code) == "" {
		apiError(w, http.StatusBadRequest, "code: required, the TypeScript program to run")
		return
	}
	// Each run is a client session of its own, ended when it returns, so the instances of
	// session-scoped upstreams it starts are stopped (a browser tab has no end we hear of).
	cs := clientsession.Begin("ui:playground:" + rand.Text())
	defer cs.End()
	rec := new(codemode.Record)
	ctx := codemode.WithRecord(clientsession.NewContext(r.Context(), cs), rec)
	if _, err := d.cm.Execute(ctx, body.Code); err != nil {
		apiError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	e := d.find(rec.ID)
	if e == nil { // not observed: history off or already dropped
		e = d.keep(rec)
	}
	writeJSON(w, http.StatusOK, e.full())
}
