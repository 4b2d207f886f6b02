// expect: runtime
return new Proxy({}, { ownKeys() { throw new Error("trap"); } });
