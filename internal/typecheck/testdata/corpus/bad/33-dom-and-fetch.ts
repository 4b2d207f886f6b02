// expect: 2:19 TS2304
// expect: 3:1 TS2584
await github.create_issue({ repo: "corpus/bad", title: "33" });
const res = await fetch("https://example.com");
document.title = "x";
return res;
