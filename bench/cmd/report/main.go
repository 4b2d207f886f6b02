package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

//go:embed assets
var assets embed.FS

// options are the runner's flags.
type options struct {
	root    string // module root
	out     string // where REPORT.md and report.json go
	bin     string // pctx binary
	npm     string // npm prefix with the MCP reference servers
	venv    string // Python venv with pctx_client
	peer    string // npm prefix for @utcp/code-mode
	quick   bool
	goBench bool
	doPeer  bool
	iter    int // timed iterations of a fast operation
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, logw io.Writer) error {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(logw, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	r, err := measure(ctx, o, logf)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", o.out, err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.out, "report.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.out, "REPORT.md"), []byte(RenderMarkdown(r)), 0o644); err != nil {
		return fmt.Errorf("write REPORT.md: %w", err)
	}
	logf("wrote %s and %s (%.0f s)", filepath.Join(o.out, "REPORT.md"), filepath.Join(o.out, "report.json"), r.Seconds)
	return nil
}

func parseOptions(args []string) (options, error) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.root, "root", "", "module root (default: the nearest go.mod above the working directory)")
	fs.StringVar(&o.out, "out", "", "output directory (default: ROOT/bench; with -quick, a temporary directory)")
	fs.StringVar(&o.bin, "pctx", os.Getenv("PCTX_BIN"), "pctx binary (default $PCTX_BIN, else built into a temporary directory)")
	fs.StringVar(&o.npm, "npm", os.Getenv("PCTX_NPM_DIR"), "npm prefix holding the MCP reference servers (default $PCTX_NPM_DIR, else ROOT/.cache/npm)")
	fs.StringVar(&o.venv, "venv", "", "Python venv with pctx_client installed (default ROOT/.cache/venv)")
	fs.StringVar(&o.peer, "peer", "", "npm prefix for the peer @utcp/code-mode (default ROOT/.cache/peer)")
	fs.BoolVar(&o.quick, "quick", false, "short run: few iterations, no Go benchmarks, no peer install (for tests)")
	fs.BoolVar(&o.goBench, "gobench", true, "run the Go benchmarks (off with -quick)")
	fs.BoolVar(&o.doPeer, "peer-run", true, "install (if needed) and run the peer")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.root == "" {
		root, err := findRoot()
		if err != nil {
			return o, err
		}
		o.root = root
	}
	def := func(p *string, rel string) {
		if *p == "" {
			*p = filepath.Join(o.root, rel)
		}
	}
	def(&o.npm, ".cache/npm")
	def(&o.venv, ".cache/venv")
	def(&o.peer, ".cache/peer")
	o.iter = 1000
	if o.quick {
		o.iter = 30
		o.goBench = false
		if o.out == "" {
			o.out = filepath.Join(os.TempDir(), "pctx-bench-quick")
		}
	}
	def(&o.out, "bench")
	return o, nil
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from the pctx checkout or pass -root")
		}
		dir = parent
	}
}

// measure runs every section; a section that cannot run records why in Notes.
func measure(ctx context.Context, o options, logf func(string, ...any)) (*Report, error) {
	start := time.Now()
	r := &Report{GeneratedAt: start.UTC().Format(time.RFC3339), Quick: o.quick, Machine: machineInfo()}
	note := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		r.Notes = append(r.Notes, msg)
		logf("note: %s", msg)
	}
	tk, err := NewTokenizer()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "pctx-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	if o.bin == "" {
		o.bin = filepath.Join(work, "pctx")
		logf("building pctx into %s", o.bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", o.bin, ".")
		cmd.Dir = o.root
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build pctx: %v\n%s", err, b)
		}
	}
	if _, err := os.Stat(o.bin); err != nil {
		return nil, fmt.Errorf("pctx binary: %w (run make build or pass -pctx)", err)
	}
	r.Binary = o.bin

	npmBin := func(name string) string {
		p := filepath.Join(o.npm, "node_modules", ".bin", name)
		if _, err := os.Stat(p); err != nil {
			note("%s is not installed under %s (run make deps): skipped", name, o.npm)
			return ""
		}
		return p
	}
	everything, filesystem, memory := npmBin("mcp-server-everything"), npmBin("mcp-server-filesystem"), npmBin("mcp-server-memory")
	fsRoot := filepath.Join(work, "files")
	memFile := filepath.Join(work, "memory.jsonl")
	if err := os.MkdirAll(fsRoot, 0o755); err != nil {
		return nil, err
	}

	// 1. Tool definitions straight from the servers.
	type upstreamSet struct {
		name, ns string
		raw      string
		defs     []ToolDef
	}
	var sets []upstreamSet
	for _, s := range []struct {
		name, ns, bin string
		args, env     []string
	}{
		{"server-everything", "everything", everything, []string{"stdio"}, nil},
		{"server-filesystem", "filesystem", filesystem, []string{fsRoot}, nil},
		{"server-memory", "memory", memory, nil, []string{"MEMORY_FILE_PATH=" + memFile}},
	} {
		if s.bin == "" {
			continue
		}
		logf("tools/list from %s", s.name)
		raw, defs, err := rawToolsList(ctx, s.bin, s.args, s.env)
		if err != nil {
			note("tools/list from %s failed: %v", s.name, err)
			continue
		}
		sets = append(sets, upstreamSet{s.name, s.ns, raw, defs})
	}
	pyDefs, pySource, err := pythonSchemas(ctx, o, work, logf)
	if err != nil {
		return nil, err
	}
	payloads := NewPayloads(240)
	workflows := SeedWorkflows(payloads)

	// Sections 2 to 5 share the main pctx and its helpers; they stop before the
	// library, peer and Go benchmark runs so those have the machine to themselves.
	if err := func() error {
		// 2. The main pctx: the three upstreams, and the Python worker.
		var evProc *child
		everythingURL := ""
		if everything != "" {
			port, err := freePort()
			if err != nil {
				return err
			}
			if evProc, everythingURL, err = startEverythingHTTP(everything, port); err != nil {
				note("server-everything over streamable HTTP did not start: %v", err)
			}
			defer evProc.stop()
		}
		var cfg strings.Builder
		if everythingURL != "" {
			fmt.Fprintf(&cfg, "[servers.everything]\nurl = %q\n\n", everythingURL)
		}
		if filesystem != "" {
			fmt.Fprintf(&cfg, "[servers.filesystem]\ncommand = %q\nargs = [%q]\n\n", filesystem, fsRoot)
		}
		if memory != "" {
			fmt.Fprintf(&cfg, "[servers.memory]\ncommand = %q\nenv = { MEMORY_FILE_PATH = %q }\n\n", memory, memFile)
		}
		mainDir := filepath.Join(work, "main")
		if err := os.MkdirAll(mainDir, 0o755); err != nil {
			return err
		}
		logf("starting pctx with upstreams")
		pc, err := startPctx(o.bin, mainDir, cfg.String())
		if err != nil {
			return err
		}
		defer pc.stop()
		// Sections 1 and 2 measure the catalog disclosure; the disclosure section all four.
		c, err := mcpHTTP(ctx, pc.URL+"/mcp?disclosure=catalog")
		if err != nil {
			return err
		}
		defer c.Close()
		three, err := listTools(ctx, c)
		if err != nil {
			return err
		}

		worker, err := startWorker(ctx, o, work, pc.URL, payloads, logf)
		if err != nil {
			note("Python worker not started, so the Python tools are listed from the fixture and the callback round trip is not measured: %v", err)
		}
		defer worker.stop()

		wantNS := []string{}
		for _, s := range sets {
			wantNS = append(wantNS, s.ns)
		}
		if worker != nil {
			wantNS = append(wantNS, "data", "ml", "search", "tools", "github", "stripe", "zendesk", "bench")
		}
		listing, err := waitListing(ctx, c, wantNS, 90*time.Second)
		if err != nil {
			note("%v", err)
		}
		blocks, order := SplitListing(listing)
		if worker == nil {
			// No live worker: render the Python tools and stand-ins with pctx's own catalog code.
			fb, err := fallbackListing(pyDefs)
			if err != nil {
				return err
			}
			fbBlocks, fbOrder := SplitListing(fb)
			for _, ns := range fbOrder {
				blocks[ns] = fbBlocks[ns]
			}
			order = append(order, fbOrder...)
		}

		// 3. Tokens per tool set.
		r.Tokens.ThreeTools = tk.Count(ContextJSON(three))
		r.Tokens.ThreeToolsJSON = ContextJSON(three)
		var allDefs []ToolDef
		for _, s := range sets {
			r.Tokens.Sets = append(r.Tokens.Sets, MeasureToolSet(tk, s.name, "tools/list from the installed npm server over stdio; listing from the running pctx", s.defs, s.raw, blocks[s.ns]))
			allDefs = append(allDefs, s.defs...)
		}
		pyListing := JoinBlocks(blocks, "tools", "data", "search", "ml")
		r.Tokens.Sets = append(r.Tokens.Sets, MeasureToolSet(tk, "seed Python tools", pySource, pyDefs, "", pyListing))
		standins := StandIns()
		r.Tokens.Sets = append(r.Tokens.Sets, MeasureToolSet(tk, "seed MCP stand-ins (github, stripe, zendesk)", "schemas in bench/cmd/report/workflow.go, served by the Python worker", standins, "", JoinBlocks(blocks, "github", "stripe", "zendesk")))
		allDefs = append(append(allDefs, pyDefs...), standins...)
		var allNS []string
		for _, ns := range order {
			if ns != "bench" {
				allNS = append(allNS, ns)
			}
		}
		allListing := JoinBlocks(blocks, allNS...)
		all := MeasureToolSet(tk, "all of the above", "sum", allDefs, "", allListing)
		all.ToolsList = Tokens{}
		for _, s := range r.Tokens.Sets {
			all.ToolsList = all.ToolsList.Add(s.ToolsList)
		}
		r.Tokens.All = all
		r.Tokens.PctxTotal = r.Tokens.ThreeTools.Add(all.Listing)

		// 4. Workflows: details and the program's result from the live pctx.
		for _, w := range workflows {
			res := WorkflowResult{Workflow: w}
			details, err := callText(ctx, c, "get_function_details", map[string]any{"functions": w.Functions})
			if err != nil {
				note("get_function_details for %q: %v (details text rendered in-process instead)", w.Name, err)
				details, _ = fallbackDetails(pyDefs, w.Functions)
			}
			result := fmt.Sprintf("null\n--- 1.00 ms, %d calls ---", len(w.Functions))
			if worker != nil {
				logf("running the %s workflow through pctx", w.Name)
				text, err := callText(ctx, c, "execute_typescript", map[string]any{"code": w.Program})
				if err != nil {
					return fmt.Errorf("workflow %q: %w", w.Name, err)
				}
				result = text
				res.LiveResult = text
				samples, err := timeOp(ctx, 3, max(10, o.iter/10), execOp(c, w.Program, "---"))
				if err != nil {
					return fmt.Errorf("workflow %q: %w", w.Name, err)
				}
				res.Latency = Summarize(samples)
			}
			texts := CodeModeTexts{Tools: r.Tokens.ThreeToolsJSON, Details: details, Result: result}
			res.ListingTokens = tk.Count(allListing).Cl100k
			res.DetailsTokens = tk.Count(details).Cl100k
			res.ProgramTokens = tk.Count(w.Program).Cl100k
			res.ResultTokens = tk.Count(result).Cl100k
			var onlyDefs []ToolDef
			for _, d := range append(slices.Clone(pyDefs), standins...) {
				if slices.Contains(w.Functions, d.Namespace+"."+d.Name) {
					onlyDefs = append(onlyDefs, d)
				}
			}
			texts.Listing = JoinBlocks(blocks, w.Namespaces...)
			res.Only = compare(tk, w, ContextJSON(onlyDefs), texts)
			texts.Listing = allListing
			res.All = compare(tk, w, ContextJSON(allDefs), texts)
			if strings.Contains(w.Program, "fetch_database_metrics") {
				for _, rows := range []int{3, 60, 240, 1440} {
					wp := SeedWorkflows(NewPayloads(rows))[0]
					res.Sensitivity = append(res.Sensitivity, Sensitivity{
						MetricRows: rows,
						Only:       compare(tk, wp, ContextJSON(onlyDefs), CodeModeTexts{Tools: texts.Tools, Listing: JoinBlocks(blocks, w.Namespaces...), Details: details, Result: result}).Ratio,
						All:        compare(tk, wp, ContextJSON(allDefs), texts).Ratio,
					})
				}
			}
			r.Workflows = append(r.Workflows, res)
		}

		// 4b. Each workflow in each disclosure, against its own tools, all configured tools
		// and the 100-function catalog; search_functions' quality.
		allURL := ""
		if worker != nil {
			allURL = pc.URL + "/mcp"
		} else {
			note("no Python worker: the disclosures are not measured against all configured tools")
		}
		if err := measureDisclosures(ctx, tk, o, r, workflows, payloads, allURL, allDefs, append(slices.Clone(pyDefs), standins...), logf); err != nil {
			return fmt.Errorf("disclosures: %w", err)
		}

		// 5. Latency over real transports.
		if err := latencySection(ctx, o, r, c, pc, worker != nil, everythingURL, work, logf, note); err != nil {
			return err
		}

		return nil
	}(); err != nil {
		return nil, err
	}

	// 6. pctx as a library, and the peer.
	logf("pctx in-process (library) runs")
	tr, un, hu, err := inProcess(ctx, 20, o.iter/2)
	if err != nil {
		return nil, err
	}
	r.Peer.PctxTrivial, r.Peer.PctxUncached, r.Peer.PctxHundred = Summarize(tr), Summarize(un), Summarize(hu)
	if o.doPeer {
		runPeer(ctx, o, r, logf)
	} else {
		r.Peer.Error = "not run (-peer-run=false)"
	}

	// 7. Go benchmarks.
	if o.goBench {
		logf("Go benchmarks")
		env := cleanEnv("PCTX_NPM_DIR="+o.npm, "PCTX_BIN="+o.bin)
		r.GoBench = runGoBenchmarks(ctx, o.root, env, []string{"./internal/runtime", "./internal/catalog", "./internal/sdkbridge", "./internal/upstream", "./internal/config", "."}, 5, "200ms", 4*time.Minute)
	} else {
		note("Go benchmarks not run (-quick or -gobench=false)")
	}

	r.Machine.LoadAfter = loadAvg()
	r.Seconds = time.Since(start).Seconds()
	r.Targets = Targets(r)
	return r, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func machineInfo() Machine {
	m := Machine{CPUs: goruntime.NumCPU(), GoVersion: goruntime.Version(), OS: goruntime.GOOS + "/" + goruntime.GOARCH, LoadBefore: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
