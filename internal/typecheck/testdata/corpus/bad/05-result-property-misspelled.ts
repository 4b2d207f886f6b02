// expect: 2:14 TS2551
const graph = await memory.read_graph();
return graph.entites.map((e) => e.name);
