// expect: 2:17 TS2304
await github.create_issue({ repo: "corpus/bad", title: "34" });
const ref = new WeakRef({});
return ref;
