package sandbox

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// TestRealBinary runs the hidden `pctx __sandbox` subcommand of a built binary.
func TestRealBinary(t *testing.T) {
	bin := os.Getenv("PCTX_BIN")
	if bin == "" {
		t.Skip("PCTX_BIN not set")
	}
	opt := Options{Command: []string{bin, "__sandbox"}, Workers: 1}
	if raceEnabled {
		opt.AddressSpace = 1 << 62
	}
	p, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	res := p.Execute(ctx(t), `return [1, "a"]`, nil, runtime.Limits{})
	if res.Error != nil || string(res.Value.(json.RawMessage)) != `[1,"a"]` {
		t.Fatalf("got %+v", res)
	}
}
