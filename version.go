package main

import "runtime/debug"

// A binary built by `go install github.com/pctx-dev/pctx@vX` gets no -ldflags, but
// the go command records the module version it fetched: report that instead of "dev".
func init() {
	if version != "dev" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
}
