// From sdk/python/tests/integration/test_seed.py.
const [s, sum] = await Promise.all([
  data.analyze_sentiment("fine"),
  everything.get_sum({ a: 2, b: 3 }),
]);
console.log("sum says", JSON.stringify(sum));
return { negative: s.negative, sum };
