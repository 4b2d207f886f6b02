// A result without an output schema is text: parse the number out of it.
const totals: number[] = [];
for (const [a, b] of [[1, 2], [10, 20], [7, 35]]) {
  const text = await everything.get_sum({ a, b });
  const n = Number(String(text).match(/(\d+)\.?$/)?.[1]);
  totals.push(n);
}
return totals.reduce((x, y) => x + y, 0);
