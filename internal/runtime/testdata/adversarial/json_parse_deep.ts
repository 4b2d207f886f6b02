// expect: stack
// goja parses JSON recursively in Go: deep enough input would overflow the Go stack,
// which kills the whole process, so depth is checked first.
return JSON.parse("[".repeat(5e6));
