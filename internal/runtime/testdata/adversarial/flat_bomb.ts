// expect: memory
// 21 levels of shared subarrays: tiny to build, 2 million elements once flattened.
let o: any = [1];
for (let i = 0; i < 21; i++) o = [o, o];
return o.flat(Infinity).length;
