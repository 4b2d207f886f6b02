// expect: 2:30 TS2769
await github.create_issue({ repo: "corpus/bad", title: "35" });
return await everything.echo(42);
