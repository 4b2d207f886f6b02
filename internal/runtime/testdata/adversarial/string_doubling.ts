// expect: memory
// timeout: 30s
// Doubling a string: each step is one big allocation the guards cannot see.
let s = "x";
for (;;) s += s;
