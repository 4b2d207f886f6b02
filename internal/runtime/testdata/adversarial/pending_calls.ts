// expect: calls_in_flight
// 10,000 calls that never return, all pending at once.
await Promise.all(Array.from({ length: 10000 }, () => ns.hang()));
