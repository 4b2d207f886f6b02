package sandbox

import (
	"errors"
	"syscall"
	"time"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// killTree is a no-op: the pool kills the worker process itself, and a worker starts no
// children.
func killTree(int) {}

// On Windows the worker runs without kernel memory and CPU bounds; the in-VM watchdog
// and the parent's wall-clock kill remain.
const hardLimits = false

func setLimits(int, int64, time.Duration) error { return nil }

func procCPU(int) (time.Duration, error) { return 0, errors.New("not measured on Windows") }

func restrictSyscalls() error { return errors.New("no seccomp on Windows") }

const cpuLimitWords = "pctx sandbox: CPU time limit reached"

// exitOnCPULimit: no kernel CPU limit is set on this OS.
func exitOnCPULimit() {}
