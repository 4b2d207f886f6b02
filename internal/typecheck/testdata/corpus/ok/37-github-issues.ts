const repo = "corpus/typecheck";
const issue = await github.create_issue({ repo, title: "Type check refused a program", body: "see logs" });
const all = await github.list_issues({ repo });
return { number: issue.number, open: all.result.length, urls: all.result.map((i) => i.url) };
