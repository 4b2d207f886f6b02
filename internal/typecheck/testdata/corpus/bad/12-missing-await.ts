// expect: 3:14 TS2339
await github.create_issue({ repo: "corpus/bad", title: "12" });
const graph = memory.read_graph();
return graph.entities.length;
