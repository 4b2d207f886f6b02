// expect: timeout
// One builtin call that loops 64 million times in Go and never checks for an interrupt:
// only killing the sandbox process ends it at the time limit.
return new Set(new Uint8Array(2 ** 26)).size;
