package runtime

import (
	"testing"
	"time"
	"github.com/dop251/goja"
)

func TestScratchSparse(t *testing.T) {
	for _, src := range []string{
		`new Array(2**32-1).indexOf(1)`,
		`new Array(2**32-1).includes(1)`,
		`new Array(2**32-1).every(x => true)`,
		`const a = []; a.length = 2**32-1; a.reverse(); 1`,
		`let o = [1]; for (let i = 0; i < 22; i++) o = [o, o]; o.flat(Infinity).length`,
		`new Array(2**32-1).map(x => 1).length`,
		`new Array(2**32-1).sort().length`,
	} {
		vm := goja.New()
		time.AfterFunc(2*time.Second, func() { vm.Interrupt("stop") })
		start := time.Now()
		v, err := vm.RunString(src)
		t.Logf("%s => %v %v in %v", src, v, err, time.Since(start))
	}
}
