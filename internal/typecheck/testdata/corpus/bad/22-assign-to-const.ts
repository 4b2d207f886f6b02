// expect: 3:1 TS2588
const total = await everything.get_sum({ a: 1, b: 2 });
const count = 1;
count = 2;
return [total, count];
