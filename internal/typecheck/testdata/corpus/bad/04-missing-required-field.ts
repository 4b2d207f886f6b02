// expect: 2:40 TS2741
await github.create_issue({ repo: "corpus/bad", title: "04" });
const total = await everything.get_sum({ a: 2 });
return total;
