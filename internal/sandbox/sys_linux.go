package sandbox

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A worker leads its own process group, and dies with the thread that started it (the
// parent): a worker must never outlive pctx.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killTree(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// hardLimits is true where setLimits works.
const hardLimits = true

// setLimits bounds a running worker from outside: its data segment (what the Go heap
// and goroutine stacks map; an allocation past it fails and the runtime aborts with
// "out of memory") and its total CPU time in whole seconds (past it the kernel kills it).
// Zero leaves a limit as it is.
func setLimits(pid int, dataBytes int64, cpu time.Duration) error {
	if dataBytes > 0 {
		l := unix.Rlimit{Cur: uint64(dataBytes), Max: uint64(dataBytes)}
		if err := unix.Prlimit(pid, unix.RLIMIT_DATA, &l, nil); err != nil {
			return err
		}
	}
	if cpu > 0 {
		secs := uint64((cpu + time.Second - 1) / time.Second)
		l := unix.Rlimit{Cur: secs, Max: secs}
		if err := unix.Prlimit(pid, unix.RLIMIT_CPU, &l, nil); err != nil {
			return err
		}
	}
	return nil
}

// cpuTime is this process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sigkilled reports whether the process was killed by SIGKILL (by the kernel at its CPU
// limit, or by the OOM killer, when the pool did not kill it).
func sigkilled(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
