//go:build !unix && !windows

package upstream

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to add where process groups are not available.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup kills p (only p: there is no process group to signal).
func signalGroup(p *os.Process, hard bool) {
	_ = p.Kill()
}
