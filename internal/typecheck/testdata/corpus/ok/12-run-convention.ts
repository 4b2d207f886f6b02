async function run() {
  const sums = await Promise.all([1, 2, 3].map((n) => everything.get_sum({ a: n, b: n })));
  return sums.length;
}
