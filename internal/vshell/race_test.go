//go:build race

package vshell

// Under the race detector the work budget is a sixteenth: the lines that exhaust it take
// as long as the full budget does without it.
func init() { workBudget = maxShellWork / 16 }
