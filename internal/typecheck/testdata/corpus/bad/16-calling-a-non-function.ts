// expect: 2:14 TS2349
const graph = await memory.read_graph();
return graph.entities().length;
