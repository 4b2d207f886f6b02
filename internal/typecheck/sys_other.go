//go:build !linux

package typecheck

import "syscall"

// Outside Linux the checker runs without a process group or a kernel memory bound; the
// time limit (the parent kills the process) and tsgo's GOMEMLIMIT remain.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(int) {}

func limitData(int, int64) error { return nil }
