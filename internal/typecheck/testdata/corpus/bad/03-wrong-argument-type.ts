// expect: 2:48 TS2322
await github.create_issue({ repo: "corpus/bad", title: "03" });
const total = await everything.get_sum({ a: 2, b: "3" });
return total;
