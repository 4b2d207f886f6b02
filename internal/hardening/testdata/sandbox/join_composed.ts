// expect: memory
// Each step is small; together they ask for 3 GiB.
return new Array(3072).fill("x".repeat(2 ** 20)).join("").length;
