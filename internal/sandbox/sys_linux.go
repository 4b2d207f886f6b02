package sandbox

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
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

// procCPU is a process's CPU time so far, user and system, read from outside it
// (/proc/PID/stat, in clock ticks of 1/100 s: USER_HZ is 100 on every Linux ABI).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat")
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// sigkilled reports whether the process was killed by SIGKILL (by the kernel at its CPU
// limit, or by the OOM killer, when the pool did not kill it).
func sigkilled(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
