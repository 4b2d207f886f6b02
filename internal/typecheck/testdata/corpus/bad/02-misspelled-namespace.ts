// expect: 2:21 TS2552
await github.create_issue({ repo: "corpus/bad", title: "02" });
const total = await everythng.get_sum({ a: 2, b: 3 });
return total;
