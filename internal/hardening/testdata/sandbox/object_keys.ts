// expect: memory
// 16 million index strings from one Object.keys.
return Object.keys(new Uint8Array(2 ** 23)).length + Object.keys(new Uint8Array(2 ** 23)).length;
