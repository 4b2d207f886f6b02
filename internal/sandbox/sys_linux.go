package sandbox

import "syscall"

// sysProcAttr puts the worker in its own process group (so a kill reaches anything it
// might spawn) and kills it if the parent's thread dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the worker's whole process group.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// limitAddressSpace sets the calling process's hard address-space bound: an allocation
// beyond it fails and the Go runtime aborts with "out of memory", which the parent
// reports as kind memory.
func limitAddressSpace(bytes uint64) error {
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: bytes, Max: bytes})
}
