// expect: 3:15 TS2339
await github.create_issue({ repo: "corpus/bad", title: "26" });
const issues = await github.list_issues({ repo: "corpus/bad" });
return issues.length;
