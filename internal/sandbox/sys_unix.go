//go:build unix && !linux

package sandbox

import (
	"errors"
	"syscall"
	"time"
)

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killTree(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// Outside Linux there is no prlimit: the worker runs without kernel memory and CPU
// bounds; the in-VM watchdog and the parent's wall-clock kill remain.
const hardLimits = false

func setLimits(int, int64, time.Duration) error { return nil }

func procCPU(int) (time.Duration, error) { return 0, errors.New("not measured on this OS") }

func restrictSyscalls() error { return errors.New("no seccomp on this OS") }

const cpuLimitWords = "pctx sandbox: CPU time limit reached"

// exitOnCPULimit: no kernel CPU limit is set on this OS.
func exitOnCPULimit() {}
