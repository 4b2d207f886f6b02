package typecheck

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts tsgo in its own process group, and kills it if pctx dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// limitData bounds the process's data segment, which on Linux counts the Go heap and
// goroutine stacks (but not the address space the runtime only reserves, which is why
// RLIMIT_AS does not fit a Go child): an allocation beyond it fails and tsgo dies with
// "out of memory".
func limitData(pid int, bytes int64) error {
	lim := &unix.Rlimit{Cur: uint64(bytes), Max: uint64(bytes)}
	return unix.Prlimit(pid, unix.RLIMIT_DATA, lim, nil)
}
