// expect: timeout
// 40,000 nested lookaheads: regexp2 spends seconds compiling the pattern, and its match
// timeout does not cover compilation.
const p = "(?=a".repeat(40000) + ")".repeat(40000);
return new RegExp(p).test("a");
