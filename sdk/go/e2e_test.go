package pctxsdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type RestartInput struct {
	Service string `json:"service" jsonschema:"name of the service to restart" enum:"api,worker,db"`
	Force   bool   `json:"force,omitempty" jsonschema:"skip the graceful drain"`
}

type RestartResult struct {
	Service   string `json:"service"`
	Restarted bool   `json:"restarted"`
	Graceful  bool   `json:"graceful"`
}

func restartService(_ context.Context, in RestartInput) (RestartResult, error) {
	return RestartResult{Service: in.Service, Restarted: true, Graceful: !in.Force}, nil
}

// readyWorker returns a worker logging to the test, whose readiness is reported on the
// returned channel.
func readyWorker(t *testing.T, url string, opts ...Option) (*Worker, chan ServerInfo) {
	ready := make(chan ServerInfo, 8)
	opts = append(opts, WithOnReady(func(i ServerInfo) { ready <- i }),
		WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	return New(url, opts...), ready
}

func execute(t *testing.T, w *Worker, code string) *ExecResult {
	t.Helper()
	res, err := w.Execute(context.Background(), code)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return res
}

// TestMixedBackends is the headline: a Go worker, the Python seed worker and an
// upstream MCP server, all called from one TypeScript Promise.all.
func TestMixedBackends(t *testing.T) {
	everything := everythingServer(t)
	p := startPctx(t, fmt.Sprintf("[servers.everything]\ncommand = %q\nargs = [\"stdio\"]\n", everything))
	startSeedWorker(t, p.url)

	w, ready := readyWorker(t, p.url)
	must(t, w.Namespace("infra", NamespaceOptions{Description: "Infrastructure operations"}))
	must(t, Register(w, "infra", "restart_service", "Restart a service by name", restartService))
	startWorker(t, w, ready)

	res := execute(t, w, `
const [restart, churn, sum] = await Promise.all([
  infra.restart_service({ service: "api" }),
  ml.predict_churn("cust_12345"),
  everything.get_sum({ a: 2, b: 3 }),
]);
return { restart, churn, sum };`)
	if err := res.Err(); err != nil {
		t.Fatalf("program failed: %v\n%s", err, res.Text)
	}
	var got struct {
		Restart RestartResult
		Churn   struct {
			ChurnProbability float64 `json:"churn_probability"`
		}
		Sum any
	}
	must(t, res.Decode(&got))
	if got.Restart != (RestartResult{Service: "api", Restarted: true, Graceful: true}) ||
		got.Churn.ChurnProbability != 0.85 || !strings.Contains(fmt.Sprint(got.Sum), "5") || res.Calls != 3 {
		t.Errorf("program returned %s (%d calls)", res.Value, res.Calls)
	}

	ctx := context.Background()
	list, err := w.ListFunctions(ctx, ListFilter{})
	must(t, err)
	for _, want := range []string{"infra", "restart_service(", "ml", "predict_churn(", "everything", "get_sum("} {
		if !strings.Contains(list, want) {
			t.Errorf("list_functions lacks %q:\n%s", want, list)
		}
	}
	details, err := w.FunctionDetails(ctx, "infra.restart_service")
	must(t, err)
	for _, want := range []string{"Restart a service by name", "name of the service to restart", `"api" | "worker" | "db"`, "force?"} {
		if !strings.Contains(details, want) {
			t.Errorf("get_function_details lacks %q:\n%s", want, details)
		}
	}
	tools, err := w.CodeModeTools(ctx)
	must(t, err)
	if len(tools) != 3 || tools[0].Name == "" || len(tools[0].InputSchema) == 0 {
		t.Errorf("code_mode_tools: %+v", tools)
	}

	// The enum is enforced (by pctx from the schema, else by the worker) before the
	// handler runs; the agent sees why.
	res = execute(t, w, "// @ts-expect-error: the run-time check is under test, not the type check\n"+
		`try { await infra.restart_service({ service: "mail" }) } catch (e) { return e.message }`)
	var msg string
	must(t, res.Decode(&msg))
	if !strings.HasPrefix(msg, "infra.restart_service:") || !strings.Contains(msg, "service") {
		t.Errorf("invalid enum value: agent saw %q", msg)
	}
}

// TestReconnectAfterRestart stops pctx and starts it again on the same port: the
// worker reconnects, registers again, and its functions work.
func TestReconnectAfterRestart(t *testing.T) {
	p := startPctx(t, "[server]\napi_key = \"s3cret\"\n")
	w, ready := readyWorker(t, p.url, WithAPIKey("s3cret"), WithBackoff(20*time.Millisecond, 200*time.Millisecond))
	must(t, Register(w, "infra", "restart_service", "Restart a service by name", restartService, Positional()))
	startWorker(t, w, ready)
	const code = `return await infra.restart_service("db", true)`
	for round := range 2 {
		res := execute(t, w, code)
		var got RestartResult
		if res.Err() != nil || res.Decode(&got) != nil || got.Service != "db" || got.Graceful {
			t.Fatalf("round %d: %s", round, res.Text)
		}
		if round == 0 {
			p.restart()
			<-ready
		}
	}
}

func TestWrongAPIKey(t *testing.T) {
	p := startPctx(t, "[server]\napi_key = \"s3cret\"\n")
	w := New(p.url, WithAPIKey("guess"))
	must(t, Register(w, "infra", "restart_service", "", restartService))
	if err := w.Run(context.Background()); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Run with a wrong key: %v, want ErrUnauthorized", err)
	}
}

// TestHandlerPanic: the agent's promise rejects with the panic, the worker lives on.
func TestHandlerPanic(t *testing.T) {
	p := startPctx(t, "")
	w, ready := readyWorker(t, p.url)
	must(t, Register(w, "infra", "crash", "Always panics", func(_ context.Context, in struct {
		I int `json:"i"`
	}) (int, error) {
		var xs []int
		return xs[in.I], nil // a runtime panic: index out of range
	}))
	must(t, Register(w, "infra", "restart_service", "", restartService))
	startWorker(t, w, ready)
	res := execute(t, w, `
let msg = "";
try { await infra.crash({ i: 0 }) } catch (e) { msg = e.message }
const after = await infra.restart_service({ service: "api" });
return { msg, after };`)
	var got struct {
		Msg   string
		After RestartResult
	}
	if res.Err() != nil || res.Decode(&got) != nil {
		t.Fatalf("program: %s", res.Text)
	}
	if want := "infra.crash: panic: runtime error: index out of range [0] with length 0"; got.Msg != want {
		t.Errorf("agent saw %q, want %q", got.Msg, want)
	}
	if !got.After.Restarted {
		t.Errorf("call after the panic: %+v", got.After)
	}
}

// TestExecutionTimeoutCancelsCall: when the execution's 1s timeout ends it, the call
// it was waiting for is cancelled by pctx and the handler's ctx says so. The call's own
// deadline (timeoutMs, the bridge's 60 s wait) is far away, so the cancellation is the
// only way the handler's ctx can end.
func TestExecutionTimeoutCancelsCall(t *testing.T) {
	p := startPctx(t, "[runtime]\ntimeout = \"1s\"\n")
	w, ready := readyWorker(t, p.url)
	causes := make(chan error, 1)
	must(t, Register(w, "infra", "drain", "Waits until cancelled", func(ctx context.Context, _ struct{}) (any, error) {
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return nil, ctx.Err()
	}))
	startWorker(t, w, ready)
	res := execute(t, w, `return await infra.drain({})`)
	if res.Error == nil || res.Error.Kind != "timeout" {
		t.Fatalf("program ended with %+v, want a timeout: %s", res.Error, res.Text)
	}
	if cause := <-causes; !errors.Is(cause, ErrCallCancelled) {
		t.Errorf("handler's context cause %v, want ErrCallCancelled", cause)
	}
}

// TestSessionScope: a session namespace serves its own connection's programs only.
func TestSessionScope(t *testing.T) {
	p := startPctx(t, "")
	var calls atomic.Int32
	count := func(context.Context, struct{}) (int32, error) { return calls.Add(1), nil }
	owner, ready := readyWorker(t, p.url, WithScope(ScopeSession))
	must(t, Register(owner, "mine", "count", "", count))
	startWorker(t, owner, ready)
	other, otherReady := readyWorker(t, p.url)
	startWorker(t, other, otherReady)

	if res := execute(t, owner, `return await mine.count({})`); string(res.Value) != "1" {
		t.Errorf("owner's program: %s", res.Text)
	}
	res := execute(t, other, `return typeof mine`)
	if string(res.Value) != `"undefined"` {
		t.Errorf("another worker sees the session namespace: %s", res.Text)
	}
	list, err := other.ListFunctions(context.Background(), ListFilter{})
	must(t, err)
	if strings.Contains(list, "mine") {
		t.Errorf("another worker's listing shows the session namespace:\n%s", list)
	}
}

// TestConcurrentCalls: calls run concurrently, so a Promise.all of calls that each wait
// for all the others completes.
func TestConcurrentCalls(t *testing.T) {
	p := startPctx(t, "")
	w, ready := readyWorker(t, p.url)
	const n = 20
	arrived := make(chan struct{}, n)
	all := make(chan struct{})
	var count atomic.Int32
	must(t, Register(w, "sync", "barrier", "", func(ctx context.Context, in struct {
		I int `json:"i"`
	}) (int, error) {
		arrived <- struct{}{}
		if count.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
			return in.I, nil
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
	}))
	startWorker(t, w, ready)
	res := execute(t, w, fmt.Sprintf(`
const xs = await Promise.all(Array.from({length: %d}, (_, i) => sync.barrier({ i })));
return xs.reduce((a, b) => a + b, 0)`, n))
	var sum int
	if res.Err() != nil || res.Decode(&sum) != nil || sum != n*(n-1)/2 {
		t.Errorf("program: %s", res.Text)
	}
}

// TestExampleWorker runs examples/go-worker as a user would and calls its functions.
func TestExampleWorker(t *testing.T) {
	p := startPctx(t, "[server]\napi_key = \"k\"\n")
	bin := filepath.Join(t.TempDir(), "go-worker")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..", "examples", "go-worker") // a module of its own
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/go-worker: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-url", p.url, "-api-key", "k")
	var logs strings.Builder
	cmd.Stderr = &logs
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("go-worker exited with %v:\n%s", err, logs.String())
		}
	})

	w, ready := readyWorker(t, p.url, WithAPIKey("k"))
	startWorker(t, w, ready)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		list, err := w.ListFunctions(ctx, ListFilter{Namespace: "infra"})
		if err == nil && strings.Contains(list, "restart_service") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("go-worker never registered (last listing %q, %v)", list, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res := execute(t, w, `
const services = await infra.list_services({});
const down = services.filter(s => s.status !== "running");
const restarted = await Promise.all(down.map(s => infra.restart_service({ service: s.name as "api" | "worker" | "db" })));
return restarted.map(s => s.name + ":" + s.status + ":" + s.restarts).join(",")`)
	var got string
	if res.Err() != nil || res.Decode(&got) != nil || got != "db:running:1,worker:running:1" {
		t.Errorf("program: %s", res.Text)
	}
}

// TestPool: two workers registering identical definitions share the namespace's calls,
// and the pool keeps serving when one leaves.
func TestPool(t *testing.T) {
	p := startPctx(t, "")
	const n = 10
	var inFlight atomic.Int32
	all := make(chan struct{})
	newMember := func(id string) (*Worker, chan ServerInfo) {
		w, ready := readyWorker(t, p.url)
		must(t, Register(w, "pool", "who", "Which worker answered", func(ctx context.Context, in struct {
			Wait bool `json:"wait,omitempty"`
		}) (string, error) {
			if in.Wait {
				// Hold every call until all n are in flight, so both members get some.
				if inFlight.Add(1) == n {
					close(all)
				}
				select {
				case <-all:
				case <-ctx.Done():
					return "", context.Cause(ctx)
				}
			}
			return id, nil
		}))
		return w, ready
	}
	a, aReady := newMember("a")
	startWorker(t, a, aReady)

	b, bReady := newMember("b")
	ctx, stopB := context.WithCancel(context.Background())
	bErr := make(chan error, 1)
	go func() { bErr <- b.Run(ctx) }()
	select {
	case <-bReady:
	case err := <-bErr:
		t.Fatalf("second pool member: %v", err)
	}

	res := execute(t, a, fmt.Sprintf(`
const ids = await Promise.all(Array.from({ length: %d }, () => pool.who({ wait: true })));
return [...new Set(ids)].sort().join(",")`, n))
	var got string
	if res.Err() != nil || res.Decode(&got) != nil || got != "a,b" {
		t.Errorf("pool members that answered: %s", res.Text)
	}

	stopB()
	if err := <-bErr; err != nil {
		t.Errorf("second member's Run: %v", err)
	}
	res = execute(t, a, `return await pool.who({})`)
	if res.Err() != nil || string(res.Value) != `"a"` {
		t.Errorf("pool after a member left: %s", res.Text)
	}
}
