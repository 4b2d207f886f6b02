package codemode_test

import (
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/runtime"
)

func TestFormatResult(t *testing.T) {
	tests := []struct {
		name string
		res  runtime.Result
		want string
	}{
		{
			name: "value and stats",
			res:  runtime.Result{Value: map[string]any{"a": 1}, Duration: 1500 * time.Microsecond, Calls: 1},
			want: "{\"a\":1}\n--- 1.50 ms, 1 call ---",
		},
		{
			name: "null value, console levels",
			res: runtime.Result{Console: []runtime.ConsoleLine{{Level: "log", Text: "hi"}, {Level: "warn", Text: "careful"}},
				Duration: 25 * time.Millisecond, Calls: 3},
			want: "null\n--- console ---\nhi\n[warn] careful\n--- 25 ms, 3 calls ---",
		},
		{
			name: "error with position and stack",
			res: runtime.Result{Error: &runtime.Error{Kind: "runtime", Message: "Error: boom", Line: 7, Column: 3, Stack: "Error: boom\n    at run (agent.ts:7:3)\n"},
				Duration: time.Millisecond},
			want: "Error (runtime) at line 7:3: Error: boom\n    at run (agent.ts:7:3)\n--- 1.00 ms, 0 calls ---",
		},
		{
			name: "error without position",
			res:  runtime.Result{Error: &runtime.Error{Kind: "timeout", Message: "execution exceeded its 30s timeout"}},
			want: "Error (timeout): execution exceeded its 30s timeout\n--- 0.00 ms, 0 calls ---",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codemode.FormatResult(&tt.res); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
