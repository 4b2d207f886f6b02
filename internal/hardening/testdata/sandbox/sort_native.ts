// expect: timeout
// Sorting 3 million numbers as strings (the default comparator) inside one builtin call.
const a = new Array(3e6);
for (let i = 0; i < a.length; i++) a[i] = (i * 7919) % 3e6;
a.sort();
return a[0];
