package sandbox

import "syscall"

// sysProcAttr puts the worker in its own process group (so a kill reaches anything it
// might spawn) and kills it if the parent's thread dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
