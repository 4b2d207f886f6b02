// expect: sandbox_crashed
// goja's parser recurses once per parenthesis of code compiled at run time, until Go's
// stack overflows: a fatal error no recover catches. The pre-parse shape checks see only
// the submitted source, not this string.
const n = 1e6;
return eval("(".repeat(n) + "1" + ")".repeat(n));
