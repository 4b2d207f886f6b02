//go:build !linux

package runtime

import "time"

// vmClock, where threads have no CPU clock pctx reads, is the wall clock while the VM
// runs, which also counts the time a VM waits for a core.

var epoch = time.Now()

func lockVMClock() int32 { return 0 }

func unlockVMClock() {}

func vmClockNow(int32) int64 { return int64(time.Since(epoch)) }
