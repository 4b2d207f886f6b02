//go:build race

package sandbox

// The race detector reserves terabytes of address space, so RLIMIT_AS cannot apply.
const raceEnabled = true
