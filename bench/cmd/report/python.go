package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// writeAsset copies an embedded asset into dir and returns its path.
func writeAsset(dir, name string) (string, error) {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, b, 0o644)
}

func venvPython(o options) string { return filepath.Join(o.venv, "bin", "python") }

// pythonSchemas returns the seed's Python tools as the Python SDK declares them, running
// the SDK in the venv; without it, the committed fixture (the same SDK's output).
func pythonSchemas(ctx context.Context, o options, work string, logf func(string, ...any)) ([]ToolDef, string, error) {
	script, err := writeAsset(work, "seed_worker.py")
	if err == nil {
		cmd := exec.CommandContext(ctx, venvPython(o), script, "schemas")
		var out []byte
		if out, err = cmd.Output(); err == nil {
			var defs []ToolDef
			if err = json.Unmarshal(out, &defs); err == nil {
				return defs, "derived at run time by the Python SDK (pydantic) in " + relTo(o.root, o.venv), nil
			}
		}
	}
	logf("Python SDK schemas unavailable (%v); using the fixture", err)
	b, ferr := assets.ReadFile("assets/python-tools.json")
	var defs []ToolDef
	if ferr == nil {
		ferr = json.Unmarshal(b, &defs)
	}
	if ferr != nil {
		return nil, "", fmt.Errorf("embedded python-tools.json: %w", ferr)
	}
	return defs, fmt.Sprintf("committed fixture assets/python-tools.json (the Python SDK could not run: %v)", err), nil
}

// worker is the Python SDK process serving the seed's tools to pctx.
type worker struct {
	*child
	stdin io.WriteCloser
}

func (w *worker) stop() {
	if w == nil {
		return
	}
	_ = w.stdin.Close()
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		w.child.stop()
	}
}

// startWorker runs the seed's Python tools against the pctx at url and waits for their
// registration.
func startWorker(ctx context.Context, o options, work, url string, p Payloads, logf func(string, ...any)) (*worker, error) {
	if _, err := os.Stat(venvPython(o)); err != nil {
		return nil, fmt.Errorf("no Python venv at %s (run make deps)", o.venv)
	}
	script, err := writeAsset(work, "seed_worker.py")
	if err != nil {
		return nil, err
	}
	data := map[string]any{
		"sentiment": p.Sentiment, "metrics": p.Metrics, "search": p.Search, "issue": p.Issue,
		"churn": p.Churn, "customer": p.Customer, "ticket": p.Ticket, "standins": StandIns(),
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	dataPath := filepath.Join(work, "payloads.json")
	if err := os.WriteFile(dataPath, b, 0o644); err != nil {
		return nil, err
	}
	logf("starting the Python worker")
	cmd := exec.Command(venvPython(o), script, "serve", url, dataPath)
	cmd.Env = cleanEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	ch, err := startChild("python worker", cmd)
	if err != nil {
		return nil, err
	}
	w := &worker{child: ch, stdin: stdin}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && !strings.Contains(line, `"ready": true`) {
			err = fmt.Errorf("unexpected first line %q", line)
		}
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case err = <-ready:
	case <-time.After(60 * time.Second):
		err = fmt.Errorf("no registration after 60 s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		w.stop()
		return nil, fmt.Errorf("python worker: %v; stderr:\n%s", err, tail(ch.log.String(), 1500))
	}
	return w, nil
}

// waitListing polls list_functions until every namespace in want is listed (upstreams
// connect in the background) and returns the listing.
func waitListing(ctx context.Context, c *client.Client, want []string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		text, err := callText(ctx, c, "list_functions", map[string]any{})
		if err != nil {
			return "", err
		}
		blocks, _ := SplitListing(text)
		var missing []string
		for _, ns := range want {
			if b, ok := blocks[ns]; !ok || !strings.Contains(b, "namespace "+ns+" {") {
				missing = append(missing, ns)
			}
		}
		if len(missing) == 0 {
			return text, nil
		}
		if time.Now().After(deadline) {
			return text, fmt.Errorf("namespaces %s not listed after %s", strings.Join(missing, ", "), timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fallbackCatalog holds the Python tools and stand-ins in pctx's catalog in-process, for
// listing and details texts when no worker runs.
func fallbackCatalog(pyDefs []ToolDef) (*catalog.Snapshot, error) {
	byNS := map[string][]catalog.Tool{}
	var order []string
	for _, d := range append(pyDefs, StandIns()...) {
		if _, ok := byNS[d.Namespace]; !ok {
			order = append(order, d.Namespace)
		}
		byNS[d.Namespace] = append(byNS[d.Namespace], catalog.Tool{
			Name: d.Name, Description: d.Description, InputSchema: d.InputSchema, OutputSchema: d.OutputSchema, Params: d.Params,
			Call: notServed,
		})
	}
	cat := catalog.New()
	for _, ns := range order {
		if err := cat.Put("bench", catalog.Namespace{Name: ns, Tools: byNS[ns]}); err != nil {
			return nil, fmt.Errorf("fallback catalog: %w", err)
		}
	}
	return cat.Snapshot(), nil
}

// notServed is the call func of fallback tools, which are only listed, never called.
func notServed(context.Context, map[string]any) (any, error) {
	return nil, errors.New("listed for token counting only; not served")
}

func fallbackListing(pyDefs []ToolDef) (string, error) {
	s, err := fallbackCatalog(pyDefs)
	if err != nil {
		return "", err
	}
	return s.List(catalog.ListOptions{}), nil
}

func fallbackDetails(pyDefs []ToolDef, names []string) (string, error) {
	s, err := fallbackCatalog(pyDefs)
	if err != nil {
		return "", err
	}
	return s.Details(names)
}

// relTo shows path relative to root when it lies inside it, for a report without this
// machine's absolute paths.
func relTo(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
