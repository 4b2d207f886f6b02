// expect: ok
// Whatever Function reaches is the sandbox's own global object.
const g = Function("return this")();
return [typeof g.process, typeof g.require, typeof g.fetch, typeof g.os, typeof g.Deno];
