// expect: 2:14 TS2362
const graph = await memory.read_graph();
const half = graph.relations / 2;
return half;
