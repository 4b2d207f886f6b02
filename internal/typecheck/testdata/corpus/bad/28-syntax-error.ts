// expect: 2:54 TS1005
await github.create_issue({ repo: "corpus/bad", title: "28" });
const total = await everything.get_sum({ a: 1, b: 2 };
return total;
