// expect: timeout
// A far-away timer keeps the loop alive; the deadline ends it.
await new Promise((resolve) => setTimeout(resolve, 1e9));
