package runtime

import (
	"runtime"
	"syscall"
	"unsafe"
)

// vmClock, on Linux, is the CPU time of the OS thread running the VM: the loop
// goroutine is locked to its thread for the length of each VM call, so the thread's
// CPU clock counts exactly the VM's work, and not the time it waits for a core or for
// a GC stop-the-world, which a wall clock would charge to whichever VM was slowed.

// lockVMClock locks the calling goroutine to its thread and returns that thread's CPU
// clock id.
func lockVMClock() int32 {
	runtime.LockOSThread()
	// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) from the kernel's posix-timers.h.
	return int32(^uint32(syscall.Gettid())<<3 | 4 | 2)
}

func unlockVMClock() { runtime.UnlockOSThread() }

// vmClockNow reads a clock from lockVMClock, from any thread; 0 if it cannot.
func vmClockNow(id int32) int64 {
	var ts syscall.Timespec
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, uintptr(id), uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return ts.Nano()
}
