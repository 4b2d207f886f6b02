// expect: 2:8 TS2552
const result = await everything.get_sum({ a: 1, b: 2 });
return reslt;
