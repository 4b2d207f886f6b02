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
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/pctx-dev/pctx/internal/pctxlog"
)

// child is a process the runner started; stop ends it (SIGTERM, then SIGKILL).
type child struct {
	name string
	cmd  *exec.Cmd
	log  *pctxlog.Buffer
	done chan struct{}
}

func startChild(name string, cmd *exec.Cmd) (*child, error) {
	c := &child{name: name, cmd: cmd, log: &pctxlog.Buffer{}, done: make(chan struct{})}
	if cmd.Stderr == nil {
		cmd.Stderr = c.log
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// waitFor polls the child's log for re until timeout, failing early if it exits.
func (c *child) waitFor(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.After(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := re.FindStringSubmatch(c.log.String()); m != nil {
			return m, nil
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("%s exited before it was ready; log:\n%s", c.name, tail(c.log.String(), 2000))
		case <-deadline:
			return nil, fmt.Errorf("%s not ready after %s; log:\n%s", c.name, timeout, tail(c.log.String(), 2000))
		case <-tick.C:
		}
	}
}

func (c *child) stop() {
	if c == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// cleanEnv is the runner's environment without PCTX_CONFIG (each pctx gets its own
// config file) plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PCTX_CONFIG=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// pctxProc is a pctx binary serving MCP over HTTP on a free loopback port.
type pctxProc struct {
	*child
	URL string
}

// startPctx runs `pctx start` with configText in a fresh directory.
func startPctx(bin, dir, configText string, extraEnv ...string) (*pctxProc, error) {
	path := filepath.Join(dir, "pctx.toml")
	if err := os.WriteFile(path, []byte(configText), 0o600); err != nil {
		return nil, fmt.Errorf("write pctx config: %w", err)
	}
	cmd := exec.Command(bin, "start", "--config", path, "--http", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = cleanEnv(extraEnv...)
	c, err := startChild("pctx", cmd)
	if err != nil {
		return nil, err
	}
	m, err := c.waitFor(pctxlog.ListeningLine, 60*time.Second)
	if err != nil {
		c.stop()
		return nil, err
	}
	return &pctxProc{child: c, URL: m[1] + m[2]}, nil
}

// RSSKiB reads VmRSS of pid from /proc (Linux).
func RSSKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS of pid %d: %w", pid, err)
	}
	return parseVmRSS(string(b))
}

// CPUSeconds reads the user+system CPU time pid has used, from /proc (Linux, assuming
// the usual 100 clock ticks per second).
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of pid %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// TreeCPUSeconds is the CPU time of pid and its children: the live ones' own, and what
// pid has reaped (its sandbox workers run the executions, and are recycled).
func TreeCPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of pid %d: %w", pid, err)
	}
	total, err := parseStatCPU(string(b))
	if err != nil {
		return 0, err
	}
	if reaped, err := statField(string(b), 13, 14); err == nil {
		total += reaped
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		if ppid, err := statField(string(st), 1); err != nil || int(ppid) != pid {
			continue
		}
		if cpu, err := parseStatCPU(string(st)); err == nil {
			total += cpu
		}
	}
	return total, nil
}

// statField sums fields of a /proc stat line, counted from after the command name
// (0 is the state): 1 the parent pid, 11 and 12 user and system time, 13 and 14 the
// reaped children's.
func statField(stat string, idx ...int) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:])
	var sum float64
	for _, k := range idx {
		if k >= len(f) {
			return 0, errors.New("short /proc stat")
		}
		v, err := strconv.ParseFloat(f[k], 64)
		if err != nil {
			return 0, errors.New("malformed /proc stat")
		}
		sum += v
	}
	if len(idx) == 1 && idx[0] == 1 {
		return sum, nil // a pid, not ticks
	}
	return sum / 100, nil
}

func parseStatCPU(stat string) (float64, error) {
	// The command name (field 2) may hold spaces; fields count from after its ')'.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed CPU times in /proc stat")
	}
	return (utime + stime) / 100, nil
}

func parseVmRSS(status string) (int, error) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.Atoi(f[0])
		}
	}
	return 0, errors.New("no VmRSS line in /proc status")
}

// startEverythingHTTP runs server-everything's streamable HTTP transport on a free port.
func startEverythingHTTP(bin string, port int) (*child, string, error) {
	cmd := exec.Command(bin, "streamableHttp")
	cmd.Env = cleanEnv(fmt.Sprintf("PORT=%d", port))
	c, err := startChild("server-everything", cmd)
	if err != nil {
		return nil, "", err
	}
	if _, err := c.waitFor(regexp.MustCompile(`listening on port`), 60*time.Second); err != nil {
		c.stop()
		return nil, "", err
	}
	return c, fmt.Sprintf("http://127.0.0.1:%d/mcp", port), nil
}

// mcpHTTP connects an initialised MCP client to a streamable HTTP endpoint.
func mcpHTTP(ctx context.Context, url string) (*client.Client, error) {
	c, err := client.NewStreamableHttpClient(url)
	if err != nil {
		return nil, fmt.Errorf("MCP client for %s: %w", url, err)
	}
	if err := c.Start(ctx); err != nil {
		return nil, fmt.Errorf("MCP client for %s: start: %w", url, err)
	}
	return c, initialize(ctx, c, url)
}

// mcpStdio starts bin with args as an MCP stdio server and connects to it.
func mcpStdio(ctx context.Context, bin string, args []string, stderr io.Writer) (*client.Client, error) {
	c, err := client.NewStdioMCPClientWithOptions(bin, cleanEnv(), args,
		transport.WithCommandFunc(func(ctx context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = env
			cmd.Stderr = stderr
			return cmd, nil
		}))
	if err != nil {
		return nil, fmt.Errorf("start %s over stdio: %w", bin, err)
	}
	return c, initialize(ctx, c, bin)
}

func initialize(ctx context.Context, c *client.Client, what string) error {
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = "2025-06-18"
	req.Params.ClientInfo = mcp.Implementation{Name: "pctx-bench", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		_ = c.Close()
		return fmt.Errorf("initialize %s: %w", what, err)
	}
	return nil
}

// callText calls tool and returns its text content; a tool error is an error here.
func callText(ctx context.Context, c *client.Client, tool string, args map[string]any) (string, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return "", fmt.Errorf("%s: %w", tool, err)
	}
	var b strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.IsError {
		return "", fmt.Errorf("%s: tool error: %s", tool, tail(b.String(), 1000))
	}
	return b.String(), nil
}

// listTools returns c's tools as ToolDefs (re-encoded by mcp-go).
func listTools(ctx context.Context, c *client.Client) ([]ToolDef, error) {
	res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, fmt.Errorf("tools/list: %w", err)
	}
	raw, err := json.Marshal(res.Tools)
	if err != nil {
		return nil, fmt.Errorf("encode tools: %w", err)
	}
	var defs []ToolDef
	if err := json.Unmarshal(raw, &defs); err != nil {
		return nil, fmt.Errorf("decode tools: %w", err)
	}
	return defs, nil
}

// rawToolsList speaks line-delimited JSON-RPC to an MCP stdio server and returns its
// tools/list result exactly as sent (pages joined), and the tools in it.
func rawToolsList(ctx context.Context, bin string, args, env []string) (string, []ToolDef, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv(env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	stderr := &pctxlog.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	r := bufio.NewReaderSize(stdout, 1<<20)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		_, err := stdin.Write(append(b, '\n'))
		return err
	}
	await := func(id int) (json.RawMessage, error) {
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return nil, fmt.Errorf("%s: read response %d: %w; stderr:\n%s", bin, id, err, tail(stderr.String(), 1000))
			}
			var msg struct {
				ID     *int            `json:"id"`
				Result json.RawMessage `json:"result"`
				Error  json.RawMessage `json:"error"`
			}
			if json.Unmarshal(line, &msg) != nil || msg.ID == nil || *msg.ID != id {
				continue // a notification, a log line or a server request
			}
			if len(msg.Error) > 0 {
				return nil, fmt.Errorf("%s: request %d: %s", bin, id, msg.Error)
			}
			return msg.Result, nil
		}
	}
	if err := send(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{
		"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "pctx-bench", "version": "1"},
	}}); err != nil {
		return "", nil, err
	}
	if _, err := await(1); err != nil {
		return "", nil, err
	}
	if err := send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}); err != nil {
		return "", nil, err
	}
	var pages []string
	var defs []ToolDef
	cursor := ""
	for id := 2; ; id++ {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		if err := send(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params}); err != nil {
			return "", nil, err
		}
		res, err := await(id)
		if err != nil {
			return "", nil, err
		}
		var page struct {
			Tools      []ToolDef `json:"tools"`
			NextCursor string    `json:"nextCursor"`
		}
		if err := json.Unmarshal(res, &page); err != nil {
			return "", nil, fmt.Errorf("%s: decode tools/list: %w", bin, err)
		}
		pages = append(pages, string(res))
		defs = append(defs, page.Tools...)
		if cursor = page.NextCursor; cursor == "" || id > 50 {
			break
		}
	}
	return strings.Join(pages, "\n"), defs, nil
}
