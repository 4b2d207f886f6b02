// expect: result
// About 2 MB of result against a 1 MiB limit.
return Array.from({ length: 2e4 }, () => "x".repeat(100));
