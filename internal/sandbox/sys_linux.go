package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/signal"
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
// "out of memory") and its total CPU time in whole seconds (past it the kernel signals
// SIGXCPU, on which the worker exits). Only the soft limits are set, and the hard ones
// left as they are: lowering a hard limit cannot be undone without privilege, and a
// worker's limits change with every execution. The worker cannot raise them itself: its
// syscall filter denies setrlimit. Zero leaves a limit as it is.
func setLimits(pid int, dataBytes int64, cpu time.Duration) error {
	if dataBytes > 0 {
		if err := setSoft(pid, unix.RLIMIT_DATA, uint64(dataBytes)); err != nil {
			return err
		}
	}
	if cpu > 0 {
		if err := setSoft(pid, unix.RLIMIT_CPU, uint64((cpu+time.Second-1)/time.Second)); err != nil {
			return err
		}
	}
	return nil
}

func setSoft(pid, resource int, v uint64) error {
	var old unix.Rlimit
	if err := unix.Prlimit(pid, resource, nil, &old); err != nil {
		return err
	}
	l := unix.Rlimit{Cur: min(v, old.Max), Max: old.Max}
	return unix.Prlimit(pid, resource, &l, nil)
}

// cpuLimitWords is what a worker writes before it exits on SIGXCPU.
const cpuLimitWords = "pctx sandbox: CPU time limit reached"

// exitOnCPULimit makes the worker end at its soft CPU limit: the kernel signals SIGXCPU
// there (once a second until the hard limit, which is left unlimited), which the Go
// runtime otherwise ignores.
func exitOnCPULimit() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGXCPU)
	go func() {
		<-ch
		fmt.Fprintln(os.Stderr, cpuLimitWords)
		os.Exit(3)
	}()
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
