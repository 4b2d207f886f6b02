// expect: ok
// The classic catastrophic pattern. goja runs patterns RE2 accepts on Go's linear-time
// engine, so this one is harmless here and simply does not match.
return /(a+)+$/.test("a".repeat(40) + "!");
