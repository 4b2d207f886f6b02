package runtime

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestTimeoutNamesPendingCalls: a timeout while Func calls are pending says which
// functions the code was waiting on, so an agent can tell which backend hung.
func TestTimeoutNamesPendingCalls(t *testing.T) {
	hang := func(ctx context.Context, args []any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	fns := Functions{
		"slow.wait": hang, "a.x": hang, "b.y": hang, "c.z": hang, "d.w": hang,
		"fast.ok": func(context.Context, []any) (any, error) { return 1, nil },
	}
	const prefix = "execution exceeded the 100ms time limit"
	tests := []struct {
		name, code, want string
		busy             bool // runs JS until the deadline: fake time would never pass
	}{
		{"one call", "return await slow.wait()", prefix + " while waiting on slow.wait (1 call pending)", false},
		{"returned calls are not listed", "await fast.ok()\nreturn await slow.wait()", prefix + " while waiting on slow.wait (1 call pending)", false},
		{"most pending first, at most three", "await Promise.all([c.z(), a.x(), b.y(), a.x(), d.w(), d.w(), d.w(), slow.wait()])",
			prefix + " while waiting on d.w (3 calls pending), a.x (2 calls pending), b.y (1 call pending) and 2 other functions (2 calls pending)", false},
		{"no call pending", "while (true) {}", prefix, true},
		{"only a timer pending", "await new Promise(r => setTimeout(r, 60000))", prefix, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(t *testing.T) {
				res := Execute(context.Background(), tt.code, fns, Limits{Timeout: 100 * time.Millisecond})
				if res.Error == nil || res.Error.Kind != KindTimeout {
					t.Fatalf("error %+v, want a timeout", res.Error)
				}
				if res.Error.Message != tt.want {
					t.Errorf("message\n%q\nwant\n%q", res.Error.Message, tt.want)
				}
			}
			if tt.busy {
				check(t) // nothing but the deadline can end it, and nothing is pending
				return
			}
			// In a bubble the 100 ms pass only once the program waits with every call it
			// makes pending, however slowly the machine starts them.
			synctest.Test(t, check)
		})
	}
}
