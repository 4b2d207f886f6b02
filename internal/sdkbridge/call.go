package sdkbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/telemetry"
)

// callError is a call failure that unwraps to its causes, so callers can test
// errors.Is(err, ErrWorkerGone) and the like. It does not repeat the function's name: the
// catalog prefixes every call error with "ns.fn: ".
type callError struct {
	msg    string
	causes []error
}

func (e *callError) Error() string   { return e.msg }
func (e *callError) Unwrap() []error { return e.causes }

func failure(what string, causes ...error) error {
	return &callError{msg: what, causes: causes}
}

// call sends execute_tool for ns.tool to the worker and waits for its answer, the call's
// deadline, the end of ctx or the end of the connection, whichever comes first. The
// deadline is Options.CallTimeout, or the execution's per-call limit in its place
// (catalog.CallLimit: the client's tool_timeout_secs), or ctx's deadline if sooner.
func (c *conn) call(ctx context.Context, ns, tool string, args map[string]any) (any, error) {
	timeout := c.b.opts.CallTimeout
	if d, ok := catalog.CallLimit(ctx); ok {
		timeout = d
	}
	own := true // whether the wait needs a timer of its own, or ctx's deadline comes first
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= timeout {
		timeout, own = time.Until(dl), false
	}
	if err := ctx.Err(); err != nil {
		return nil, failure("call cancelled before it started: "+err.Error(), err)
	}
	if timeout <= 0 {
		return nil, failure("no time left for the call", ErrCallTimeout, context.DeadlineExceeded)
	}

	id := c.nextID.Add(1)
	pc := &pendingCall{ns: ns, tool: tool, ch: make(chan callReply, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, failure(fmt.Sprintf("worker for namespace %q disconnected", ns), ErrWorkerGone, errNeverSent)
	}
	if len(c.pending) >= maxCallsInFlight {
		c.mu.Unlock()
		return nil, failure(fmt.Sprintf("worker for namespace %q is too busy (%d calls in flight)", ns, maxCallsInFlight), ErrBusy)
	}
	c.pending[id] = pc
	c.mu.Unlock()

	if args == nil {
		args = map[string]any{}
	}
	deadline := time.Now().Add(timeout)
	telemetry.NoteMember(ctx, c.id)
	req := executeToolRequest{JSONRPC: "2.0", ID: id, Method: "execute_tool", Params: executeToolParams{
		Namespace: ns, Name: tool, Args: args, TimeoutMs: timeout.Milliseconds(), Deadline: deadline.UnixMilli(),
		Meta: telemetry.Meta(ctx),
	}}
	if err := c.sendJSON(ctx, req); err != nil {
		c.forget(id)
		if errors.Is(err, ErrWorkerGone) { // not queued: the worker never saw it
			return nil, failure(fmt.Sprintf("worker for namespace %q disconnected", ns), ErrWorkerGone, errNeverSent)
		}
		return nil, failure("call not sent: "+err.Error(), err)
	}

	var expired <-chan time.Time
	if own {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case r := <-pc.ch:
		return c.result(pc, r)
	case <-c.ctx.Done():
		return nil, c.goneError(ns)
	case <-expired:
		return c.abandon(id, pc, "timeout", nil, timeout)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return c.abandon(id, pc, "timeout", ctx.Err(), timeout)
		}
		return c.abandon(id, pc, "cancelled", ctx.Err(), timeout)
	}
}

// abandon stops waiting for call id and tells the worker so. If the answer won the race,
// it is returned instead.
func (c *conn) abandon(id int64, pc *pendingCall, reason string, cause error, timeout time.Duration) (any, error) {
	if !c.forget(id) {
		return c.result(pc, <-pc.ch) // the read loop took it and is about to deliver
	}
	if c.session == "" { // the published client cannot decode notifications
		if err := c.sendJSON(c.ctx, notification{JSONRPC: "2.0", Method: "cancel", Params: cancelParams{ID: json.RawMessage(fmt.Sprint(id)), Reason: reason}}); err != nil {
			c.log.Debug("sdkbridge: cancel not sent", "id", id, "err", err)
		}
	}
	if reason == "timeout" {
		causes := []error{ErrCallTimeout}
		if cause != nil {
			causes = append(causes, cause)
		}
		return nil, failure(fmt.Sprintf("timed out after %s waiting for the worker", timeout.Round(time.Millisecond)), causes...)
	}
	return nil, failure("call cancelled: "+cause.Error(), cause)
}

// forget removes call id from the pending set, reporting whether it was still there.
func (c *conn) forget(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pending[id]
	delete(c.pending, id)
	return ok
}

func (c *conn) goneError(ns string) error {
	return failure(fmt.Sprintf("worker for namespace %q disconnected", ns), ErrWorkerGone)
}

// result turns the worker's answer into the call's value or error.
func (c *conn) result(pc *pendingCall, r callReply) (any, error) {
	if r.err != nil {
		te := &ToolError{Namespace: pc.ns, Tool: pc.tool, Code: r.err.Code, Message: r.err.Message}
		if data, ok := r.err.Data.(map[string]any); ok {
			te.Type, _ = data["type"].(string)
			if tb, _ := data["traceback"].(string); tb != "" {
				c.log.Debug("sdkbridge: tool raised", "function", pc.ns+"."+pc.tool, "traceback", tb)
			}
		}
		return nil, te
	}
	if isNull(r.result) {
		return nil, nil
	}
	var tr toolResult
	if err := json.Unmarshal(r.result, &tr); err != nil {
		return nil, failure(`invalid answer from the worker: result must be an object {"value": ...}`)
	}
	raw := tr.Value
	if raw == nil {
		raw = tr.Output
	}
	if raw == nil {
		return nil, nil
	}
	// Unmarshal above validated it. Handing the runtime the raw JSON keeps the worker's key
	// order and exact numbers, and skips a decode into Go maps.
	return raw, nil
}
