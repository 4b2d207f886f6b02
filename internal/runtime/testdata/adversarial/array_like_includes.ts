// expect: memory
// The same loop through an array-like object.
return Array.prototype.includes.call({ length: 2 ** 53 - 1 }, 1);
