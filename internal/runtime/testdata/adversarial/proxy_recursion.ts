// expect: stack
// Recursion through a proxy trap: each level is a native frame, which makes the
// overflow slow to unwind; the stack limit keeps that short.
const p: any = new Proxy({}, { get(target, key, receiver) { return receiver[key]; } });
return p.x;
