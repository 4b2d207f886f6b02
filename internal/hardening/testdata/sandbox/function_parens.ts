// expect: sandbox_crashed
// The same through the Function constructor.
const n = 1e6;
return Function("return " + "(".repeat(n) + "1" + ")".repeat(n))();
