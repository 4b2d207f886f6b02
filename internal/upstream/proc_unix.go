//go:build unix && !linux

package upstream

import "syscall"

// sysProcAttr puts the child in a process group of its own, so Close can
// kill its descendants too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
