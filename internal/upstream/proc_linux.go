package upstream

import "syscall"

// sysProcAttr puts the child in a process group of its own (so Close can
// kill its descendants too) and has the kernel kill it if pctx dies without
// closing (no orphans even after SIGKILL of pctx).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
