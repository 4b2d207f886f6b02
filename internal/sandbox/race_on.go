//go:build race

package sandbox

// A race-instrumented binary maps terabytes of shadow memory: kernel memory limits cannot
// apply to a worker that is a copy of it.
const raceEnabled = true
