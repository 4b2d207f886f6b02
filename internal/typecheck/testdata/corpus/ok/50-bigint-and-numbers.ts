const big = 2n ** 64n;
const sums = await Promise.all([1, 2, 3].map((n) => everything.get_sum({ a: n * 1000, b: 0.5 })));
const nums = sums.map((s) => Number.parseFloat(String(s).replace(/[^0-9.]+$/, "").split(" ").at(-1) ?? "0"));
return { big: big.toString(), max: Math.max(...nums), fixed: (1234.5678).toFixed(2) };
