// expect: memory
// One builtin call that would allocate 512 MiB (1 GiB as UTF-16) at once.
"x".repeat(2 ** 29);
