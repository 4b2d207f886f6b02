package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestClampCallTimeout(t *testing.T) {
	tests := []struct {
		secs int
		want time.Duration
	}{{-5, time.Second}, {0, time.Second}, {1, time.Second}, {30, 30 * time.Second}, {600, 600 * time.Second}, {601, 600 * time.Second}, {1 << 40, 600 * time.Second}}
	for _, tt := range tests {
		if got := ClampCallTimeout(tt.secs); got != tt.want {
			t.Errorf("ClampCallTimeout(%d) = %v, want %v", tt.secs, got, tt.want)
		}
	}
}

// sleeper is a backend whose calls take d (or until their context ends), recording the
// per-call limit each call saw.
type sleeper struct {
	d      time.Duration
	limits []time.Duration
}

func (s *sleeper) call(ctx context.Context, _ map[string]any) (any, error) {
	d, _ := CallLimit(ctx)
	s.limits = append(s.limits, d)
	select {
	case <-time.After(s.d):
		return "done", nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestCallTimeouts(t *testing.T) {
	tests := []struct {
		name    string
		limits  CallTimeouts
		naming  Naming
		fn      string
		backend time.Duration
		want    string // error text; "" means the call succeeds
		limit   time.Duration
	}{
		{"no limits", CallTimeouts{}, NamingRegistered, "tools.slow_tool", time.Hour, "", 0},
		{"default", CallTimeouts{Default: 2 * time.Second}, NamingRegistered, "tools.slow_tool", time.Hour,
			"tools.slow_tool: call timed out after 2s (the per-call limit tool_timeout_secs = 2)", 2 * time.Second},
		{"answered in time", CallTimeouts{Default: 2 * time.Second}, NamingRegistered, "tools.slow_tool", time.Second, "", 2 * time.Second},
		{"override by the registered id", CallTimeouts{Default: 5 * time.Second, PerTool: map[string]time.Duration{"tools__slow_tool": time.Second}}, NamingCamel, "Tools.slowTool", time.Hour,
			`Tools.slowTool: call timed out after 1s (the per-call limit tool_timeout_overrides["tools__slow_tool"] = 1)`, time.Second},
		{"override by the called id", CallTimeouts{PerTool: map[string]time.Duration{"Tools__slowTool": 3 * time.Second}}, NamingCamel, "Tools.slowTool", time.Hour,
			`Tools.slowTool: call timed out after 3s (the per-call limit tool_timeout_overrides["Tools__slowTool"] = 3)`, 3 * time.Second},
		{"override of another tool", CallTimeouts{Default: 2 * time.Second, PerTool: map[string]time.Duration{"tools__other": time.Second}}, NamingRegistered, "tools.slow_tool", time.Hour,
			"tools.slow_tool: call timed out after 2s (the per-call limit tool_timeout_secs = 2)", 2 * time.Second},
		{"an override may be longer than the default", CallTimeouts{Default: time.Second, PerTool: map[string]time.Duration{"tools__slow_tool": 10 * time.Second}}, NamingRegistered, "tools.slow_tool", 5 * time.Second, "", 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &sleeper{d: tt.backend}
				cat := New()
				mustPut(t, cat, "a", Namespace{Name: "tools", Tools: []Tool{{Name: "slow_tool", Call: s.call}, {Name: "other", Call: s.call}}})
				fns := cat.Snapshot().Named(tt.naming).Functions()
				ctx, cancel := context.WithCancel(WithCallTimeouts(context.Background(), tt.limits))
				defer cancel()
				if tt.limits.Default == 0 && tt.limits.PerTool == nil {
					go func() { time.Sleep(time.Minute); cancel() }() // the execution ends
				}
				res, err := fns[tt.fn](ctx, nil)
				switch {
				case tt.want == "" && tt.limits.Default == 0 && tt.limits.PerTool == nil:
					if !errors.Is(err, context.Canceled) || errors.Is(err, ErrCallTimeout) {
						t.Fatalf("without limits the call should last until the execution ends, got %v, %v", res, err)
					}
				case tt.want == "":
					if err != nil || res != "done" {
						t.Fatalf("got %v, %v", res, err)
					}
				default:
					if err == nil || err.Error() != tt.want || !errors.Is(err, ErrCallTimeout) {
						t.Fatalf("error = %v, want %q wrapping ErrCallTimeout", err, tt.want)
					}
				}
				if len(s.limits) != 1 || s.limits[0] != tt.limit {
					t.Errorf("the backend saw CallLimit %v, want %v", s.limits, tt.limit)
				}
			})
		})
	}
}

// TestCallTimeoutNotBlamedForTheExecution: when the execution itself ends, a call's error
// is the backend's, not a per-call timeout.
func TestCallTimeoutNotBlamedForTheExecution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sleeper{d: time.Hour}
		cat := New()
		mustPut(t, cat, "a", Namespace{Name: "tools", Tools: []Tool{{Name: "slow", Call: s.call}}})
		ctx, cancel := context.WithTimeout(WithCallTimeouts(context.Background(), CallTimeouts{Default: 10 * time.Second}), time.Second)
		defer cancel()
		_, err := cat.Snapshot().Functions()["tools.slow"](ctx, nil)
		if err == nil || errors.Is(err, ErrCallTimeout) || !strings.Contains(err.Error(), "deadline exceeded") {
			t.Fatalf("err = %v", err)
		}
	})
}
