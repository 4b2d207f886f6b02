package sandbox

import "os"

// A process started with EnvChild set is a worker: it runs Main instead of its own main.
// The hook lives in init so that any binary linking this package can serve as a worker
// of its own pool: the pctx command, an embedder's program, and test binaries alike.
func init() {
	if os.Getenv(EnvChild) == "1" {
		Main()
	}
}
