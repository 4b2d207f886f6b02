package runtime

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestTimersFakeClock runs timer semantics inside a synctest bubble: time only moves
// when everything waits, so long delays cost nothing and Date.now() is exact.
func TestTimersFakeClock(t *testing.T) {
	tests := []struct {
		name, code string
		lim        Limits
		want       string    // JSON value, when no error is expected
		kind       ErrorKind // expected error kind
	}{
		{"a minute-long timer", "const t0 = Date.now()\nawait new Promise(r => setTimeout(r, 60_000))\nreturn Date.now() - t0", Limits{Timeout: time.Hour}, "60000", ""},
		{"due order, then creation order", "const log: string[] = []\nsetTimeout(() => log.push('c'), 20)\nsetTimeout(() => log.push('a'), 10)\nsetTimeout(() => log.push('b'), 10)\nawait new Promise(r => setTimeout(r, 30))\nreturn log", Limits{}, `["a","b","c"]`, ""},
		{"interval period", "const t0 = Date.now(), at: number[] = []\nawait new Promise<void>(r => { const id = setInterval(() => { at.push(Date.now() - t0); if (at.length === 3) { clearInterval(id); r() } }, 250) })\nreturn at", Limits{}, "[250,500,750]", ""},
		{"zero delay is 1 ms", "const t0 = Date.now()\nawait new Promise(r => setTimeout(r, 0))\nreturn Date.now() - t0", Limits{}, "1", ""},
		{"timer past the deadline", "await new Promise(r => setTimeout(r, 60_000))", Limits{Timeout: 30 * time.Second}, "", KindTimeout},
		{"interval keeps running until the deadline", "let n = 0\nsetInterval(() => n++, 1000)\nawait new Promise(() => {})", Limits{Timeout: 10 * time.Second}, "", KindTimeout},
		{"cleared timers let the loop end", "const id = setTimeout(() => {}, 1000)\nclearTimeout(id)\nawait new Promise(() => {})", Limits{}, "", KindUnsettled},
		{"a slow call past the deadline", "await ns.sleep(60_000)", Limits{Timeout: 5 * time.Second}, "", KindTimeout},
		{"a slow call within the deadline", "const t0 = Date.now()\nawait ns.sleep(20_000)\nreturn Date.now() - t0", Limits{}, "20000", ""},
	}
	sleep := Functions{"ns.sleep": func(ctx context.Context, args []any) (any, error) {
		ms, _ := args[0].(int64)
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				res := Execute(context.Background(), tt.code, sleep, tt.lim)
				if tt.kind != "" {
					if res.Error == nil || res.Error.Kind != tt.kind {
						t.Fatalf("error = %+v, want kind %s", res.Error, tt.kind)
					}
					return
				}
				if res.Error != nil {
					t.Fatalf("error: %+v", res.Error)
				}
				if got := asJSON(t, res.Value); got != tt.want {
					t.Errorf("value = %s, want %s", got, tt.want)
				}
			})
		})
	}
}
