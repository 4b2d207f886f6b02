//go:build unix

package upstream

import (
	"os"
	"syscall"
)

// signalGroup sends SIGTERM (or SIGKILL when hard) to p's process group.
func signalGroup(p *os.Process, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-p.Pid, sig)
}
