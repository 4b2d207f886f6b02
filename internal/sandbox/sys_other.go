//go:build !linux

package sandbox

import "syscall"

// Outside Linux the worker runs without a process group or a kernel address-space
// bound: the in-process memory guard and the parent's timeout kill remain.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(int) {}

func limitAddressSpace(uint64) error { return nil }
