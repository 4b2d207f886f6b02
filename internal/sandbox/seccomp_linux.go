//go:build linux && (amd64 || arm64)

package sandbox

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// restrictSyscalls installs a seccomp filter on every thread of the worker: after
// start-up a worker only computes and talks over the pipes it inherited, so the system
// calls that reach the world — opening or creating files, sockets, exec, tracing other
// processes, io_uring (which would bypass the filter) — fail with EPERM. A denylist,
// not an allowlist, because the Go runtime's own needs (mmap, futex, clone of threads,
// signals) change between Go versions; what is denied is what a sandbox escape would
// need. Calls of another ABI than the worker's own (x32 on amd64) are denied too.
func restrictSyscalls() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	prog := seccompProgram(auditArch, deniedSyscalls, x32Bit)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("seccomp(SET_MODE_FILTER): %w", errno)
	}
	return nil
}

// Classic BPF over struct seccomp_data: nr at offset 0, arch at 4.
const (
	bpfLdAbsW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJsetK   = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfRetK    = unix.BPF_RET | unix.BPF_K
	offsetNr   = 0
	offsetArch = 4
)

// seccompProgram: a foreign arch kills the process; a call with abiBit set (x32) or one
// of denied returns EPERM; anything else is allowed.
func seccompProgram(arch uint32, denied []uintptr, abiBit uint32) []unix.SockFilter {
	deny := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	p := []unix.SockFilter{
		{Code: bpfLdAbsW, K: offsetArch},
		{Code: bpfJeqK, Jt: 1, K: arch},
		{Code: bpfRetK, K: unix.SECCOMP_RET_KILL_PROCESS},
		{Code: bpfLdAbsW, K: offsetNr},
	}
	// Each test jumps, on a match, over the tests after it and the allow to the deny.
	n := len(denied)
	if abiBit != 0 {
		p = append(p, unix.SockFilter{Code: bpfJsetK, Jt: uint8(n + 1), K: abiBit})
	}
	for i, nr := range denied {
		p = append(p, unix.SockFilter{Code: bpfJeqK, Jt: uint8(n - i), K: uint32(nr)})
	}
	return append(p,
		unix.SockFilter{Code: bpfRetK, K: unix.SECCOMP_RET_ALLOW},
		unix.SockFilter{Code: bpfRetK, K: deny},
	)
}

// deniedCommon are denied on every architecture (numbers from x/sys/unix per arch).
var deniedCommon = []uintptr{
	// files and the file system
	unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT,
	unix.SYS_MKDIRAT, unix.SYS_MKNODAT, unix.SYS_UNLINKAT, unix.SYS_RENAMEAT2, unix.SYS_LINKAT,
	unix.SYS_SYMLINKAT, unix.SYS_FCHMODAT, unix.SYS_FCHOWNAT, unix.SYS_TRUNCATE, unix.SYS_CHDIR,
	unix.SYS_CHROOT, unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_SWAPON,
	unix.SYS_SWAPOFF, unix.SYS_ACCT, unix.SYS_QUOTACTL, unix.SYS_FANOTIFY_INIT,
	unix.SYS_INOTIFY_INIT1, unix.SYS_MEMFD_CREATE,
	// network
	unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_CONNECT, unix.SYS_BIND, unix.SYS_LISTEN,
	unix.SYS_ACCEPT, unix.SYS_ACCEPT4,
	// its own limits, which the parent sets
	unix.SYS_SETRLIMIT, unix.SYS_PRLIMIT64,
	// programs and other processes
	unix.SYS_EXECVE, unix.SYS_EXECVEAT, unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV,
	unix.SYS_PROCESS_VM_WRITEV, unix.SYS_PIDFD_GETFD, unix.SYS_PIDFD_OPEN, unix.SYS_UNSHARE,
	unix.SYS_SETNS,
	// the kernel's other doors
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER, unix.SYS_BPF,
	unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD, unix.SYS_KEYCTL, unix.SYS_ADD_KEY,
	unix.SYS_REQUEST_KEY, unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_KEXEC_LOAD, unix.SYS_REBOOT, unix.SYS_SYSLOG,
}
