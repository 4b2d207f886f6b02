// expect: memory
// 1 MiB of "a", each replaced by 1 KiB: a 1 GiB string built inside one builtin call.
return "a".repeat(2 ** 20).replaceAll("a", "b".repeat(1024)).length;
