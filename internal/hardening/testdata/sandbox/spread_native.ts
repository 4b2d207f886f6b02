// expect: timeout
// Spreading a typed array iterates natively.
return [...new Uint8Array(2 ** 24)].length;
