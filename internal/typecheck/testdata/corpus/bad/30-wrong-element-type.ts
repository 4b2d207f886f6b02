// expect: 2:7 TS2322
const graph = await memory.read_graph();
const names: number[] = graph.entities.map((e) => e.name);
return names;
