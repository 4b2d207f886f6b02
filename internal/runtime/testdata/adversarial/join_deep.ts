// expect: stack
// join -> toString -> join recursion on nested arrays runs in Go, below goja's own
// call-stack accounting.
let a: any = [];
for (let i = 0; i < 2e4; i++) a = [a];
return String(a).length;
