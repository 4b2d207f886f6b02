// expect: 2:54 TS2353
await github.create_issue({ repo: "corpus/bad", title: "07" });
const total = await everything.get_sum({ a: 1, b: 2, c: 3 });
return total;
