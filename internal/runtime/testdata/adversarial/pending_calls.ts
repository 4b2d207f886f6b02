// expect: calls_in_flight
// 10,000 calls that never return, all pending at once (the in-flight limit must be
// lower than the total one for this to hit it).
await Promise.all(Array.from({ length: 10000 }, () => ns.hang()));
