// expect: 2:80 TS2769
await github.create_issue({ repo: "corpus/bad", title: "17" });
await memory.create_entities({ entities: [{ name: "Bad17", entityType: "test", observations: "one" }] });
