// Indexing a regular expression match without a null check.
const text = String(await everything.get_sum({ a: 20, b: 22 }));
const m = text.match(/(\d+)\.?$/);
return Number(m[1]);
