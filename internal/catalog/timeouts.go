package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Bounds of a per-call limit asked for by a client (tool_timeout_secs and
// tool_timeout_overrides): the original pctx's, 1 s to 600 s.
const (
	MinCallTimeout = time.Second
	MaxCallTimeout = 600 * time.Second
)

// ClampCallTimeout turns a client's per-call limit in seconds into a duration within
// MinCallTimeout and MaxCallTimeout, as the original pctx does: 0 or less becomes 1 s,
// more than 600 becomes 600 s.
func ClampCallTimeout(secs int) time.Duration {
	return time.Duration(min(max(secs, int(MinCallTimeout/time.Second)), int(MaxCallTimeout/time.Second))) * time.Second
}

// CallTimeouts bounds each function call of one execution, whatever backend serves it.
// The zero value sets no limit: every backend's own applies.
type CallTimeouts struct {
	// Default bounds every call the execution makes; zero means none of its own.
	Default time.Duration
	// PerTool overrides Default for the tools it names by tool id "namespace__name",
	// with the names as the backend registered them ("tools__add_numbers", the original
	// pctx's ids) or as the program calls them ("Tools__addNumbers").
	PerTool map[string]time.Duration
}

// ErrCallTimeout is wrapped by the error of a call that outlived its CallTimeouts limit.
var ErrCallTimeout = errors.New("call timed out")

type callTimeoutsKey struct{}

// WithCallTimeouts returns ctx carrying t: every function call made by an execution under
// ctx is bounded by t's limit for it, and fails with an error that names the function and
// the limit (wrapping ErrCallTimeout). Backends with a per-call timeout of their own use
// that limit instead (see CallLimit), so a client may also allow a call longer than the
// backend's default, up to MaxCallTimeout.
func WithCallTimeouts(ctx context.Context, t CallTimeouts) context.Context {
	if t.Default <= 0 && len(t.PerTool) == 0 {
		return ctx
	}
	return context.WithValue(ctx, callTimeoutsKey{}, t)
}

type callLimitKey struct{}

// CallLimit returns the CallTimeouts limit of the call ctx was made for, if there is one.
// A backend with a per-call timeout of its own uses this in its place.
func CallLimit(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Value(callLimitKey{}).(time.Duration)
	return d, ok
}

// callLimit returns f's limit under ctx's CallTimeouts and a description of where it
// comes from, or 0.
func (f *function) callLimit(ctx context.Context) (time.Duration, string) {
	t, ok := ctx.Value(callTimeoutsKey{}).(CallTimeouts)
	if !ok {
		return 0, ""
	}
	for _, id := range []string{f.rawNS + "__" + f.tool.Name, f.ns + "__" + f.name} {
		if d, ok := t.PerTool[id]; ok && d > 0 {
			return d, "tool_timeout_overrides[" + strconv.Quote(id) + "]"
		}
	}
	if t.Default > 0 {
		return t.Default, "tool_timeout_secs"
	}
	return 0, ""
}

var errCallLimit = errors.New("per-call limit reached")

// callWithLimit runs call under f's limit from ctx's CallTimeouts, if any.
func (f *function) callWithLimit(ctx context.Context, call func(context.Context) (any, error)) (any, error) {
	limit, source := f.callLimit(ctx)
	if limit <= 0 {
		return call(ctx)
	}
	cctx, cancel := context.WithTimeoutCause(context.WithValue(ctx, callLimitKey{}, limit), limit, errCallLimit)
	defer cancel()
	res, err := call(cctx)
	if err != nil && errors.Is(context.Cause(cctx), errCallLimit) && ctx.Err() == nil {
		return nil, fmt.Errorf("%w after %s (the per-call limit %s = %g)", ErrCallTimeout, limit, source, limit.Seconds())
	}
	return res, err
}
