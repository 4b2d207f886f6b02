// expect: memory
new Uint8Array(2 ** 32);
