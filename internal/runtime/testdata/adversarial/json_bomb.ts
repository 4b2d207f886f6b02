// expect: memory
// A small value that JSON.stringify expands to ~300 MB in one builtin call.
let o: any = [1];
for (let i = 0; i < 25; i++) o = [o, o];
JSON.stringify(o);
