// expect: memory
// Doubling a string: each step is one big allocation the guards cannot see.
let s = "x";
for (;;) s += s;
