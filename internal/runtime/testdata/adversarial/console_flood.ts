// expect: console
// 100 MB of console output.
const line = "x".repeat(1e6);
for (let i = 0; i < 100; i++) console.log(line);
