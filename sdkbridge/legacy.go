package sdkbridge

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pctx-dev/pctx/catalog"
	"github.com/pctx-dev/pctx/runtime"
)

// The published pctx-client (docs/protocol.md §10) names its code-mode session in this
// header; a websocket upgrade carrying it is a compatibility connection.
const sessionHeader = "X-Code-Mode-Session"

// SessionTool is a tool the published pctx-client registers for its code-mode session
// (REST POST /register/tools). Session tools are visible only to that session's
// executions and are called over its compatibility websocket.
type SessionTool struct {
	Name         string          `json:"name"`
	Namespace    string          `json:"namespace"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
}

// CreateSession starts a code-mode session for the published client and returns its id
// (REST POST /code-mode/session/create).
func (b *Bridge) CreateSession() string {
	id := rand.Text()
	b.mu.Lock()
	b.sessions[id] = nil
	b.mu.Unlock()
	return id
}

// AddSessionTools adds tools to session id, replacing tools of the same namespace and
// name (REST POST /register/tools).
func (b *Bridge) AddSessionTools(id string, tools []SessionTool) error {
	for i, t := range tools {
		if t.Name == "" || t.Namespace == "" {
			return fmt.Errorf("session %q: tools[%d]: name and namespace are required", id, i)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	have, ok := b.sessions[id]
	if !ok {
		return fmt.Errorf("unknown code-mode session %q", id)
	}
	out := make([]SessionTool, 0, len(have)+len(tools))
	for _, h := range have {
		replaced := false
		for _, t := range tools {
			replaced = replaced || (t.Namespace == h.Namespace && t.Name == h.Name)
		}
		if !replaced {
			out = append(out, h)
		}
	}
	b.sessions[id] = append(out, tools...)
	return nil
}

// CloseSession ends session id (REST POST /code-mode/session/close), reporting whether it
// existed. Its open compatibility connections keep running but see no tools.
func (b *Bridge) CloseSession(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.sessions[id]
	delete(b.sessions, id)
	return ok
}

func (b *Bridge) hasSession(id string) bool {
	_, ok := b.sessionTools(id)
	return ok
}

func (b *Bridge) sessionTools(id string) ([]SessionTool, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	tools, ok := b.sessions[id]
	return tools, ok
}

// legacyNamespaces groups session tools into namespaces whose calls go to this connection.
func (c *conn) legacyNamespaces(tools []SessionTool) []catalog.Namespace {
	var out []catalog.Namespace
	index := map[string]int{}
	for _, t := range tools {
		i, ok := index[t.Namespace]
		if !ok {
			i = len(out)
			index[t.Namespace] = i
			out = append(out, catalog.Namespace{Name: t.Namespace})
		}
		nsName, toolName := t.Namespace, t.Name
		out[i].Tools = append(out[i].Tools, catalog.Tool{
			Name: t.Name, Description: t.Description,
			InputSchema: nullToNil(t.InputSchema), OutputSchema: nullToNil(t.OutputSchema),
			Call: func(ctx context.Context, args map[string]any) (any, error) {
				return c.call(ctx, nsName, toolName, args)
			},
		})
	}
	return out
}

// executeResult is the pctx/1 execute_typescript result (docs/protocol.md §5.3).
func executeResult(r *runtime.Result, text string) map[string]any {
	out := map[string]any{
		"value":      r.Value,
		"console":    r.Console,
		"durationMs": float64(r.Duration.Microseconds()) / 1000,
		"calls":      r.Calls,
		"text":       text,
	}
	if r.Console == nil {
		out["console"] = []runtime.ConsoleLine{}
	}
	if r.Error != nil {
		out["error"] = r.Error
	}
	return out
}

// legacyResult is the published client's execute result (docs/protocol.md §10.2).
func legacyResult(code string, started time.Time, r *runtime.Result) map[string]any {
	var stdout, stderr []string
	for _, l := range r.Console {
		if l.Level == "warn" || l.Level == "error" {
			stderr = append(stderr, l.Text)
		} else {
			stdout = append(stdout, l.Text)
		}
	}
	if r.Error != nil {
		msg := r.Error.Message
		if r.Error.Line > 0 {
			msg = fmt.Sprintf("%s (line %d:%d)", msg, r.Error.Line, r.Error.Column)
		}
		stderr = append(stderr, msg)
	}
	return map[string]any{
		"success": r.Error == nil,
		"stdout":  strings.Join(stdout, "\n"),
		"stderr":  strings.Join(stderr, "\n"),
		"output":  r.Value,
		"trace": map[string]any{
			"code":       code,
			"started_at": systemTime(started),
			"ended_at":   systemTime(started.Add(r.Duration)),
			"events":     []any{},
		},
	}
}

// systemTime renders t as Rust's serde SystemTime, which the published client parses.
func systemTime(t time.Time) map[string]int64 {
	return map[string]int64{"secs_since_epoch": t.Unix(), "nanos_since_epoch": int64(t.Nanosecond())}
}
