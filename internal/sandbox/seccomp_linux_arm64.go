package sandbox

import "golang.org/x/sys/unix"

const (
	auditArch = unix.AUDIT_ARCH_AARCH64
	x32Bit    = 0 // no second ABI
)

var deniedSyscalls = append([]uintptr{unix.SYS_RENAMEAT, unix.SYS_KEXEC_FILE_LOAD}, deniedCommon...)
