// expect: memory
new Array(2 ** 30).join("abc");
