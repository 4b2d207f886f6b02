// expect: 2:43 TS2769
await github.create_issue({ repo: "corpus/bad", title: "18" });
await memory.create_entities({ entities: [{ name: "Bad18", observations: [] }] });
