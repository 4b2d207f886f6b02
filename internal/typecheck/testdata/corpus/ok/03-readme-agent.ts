// execute_typescript { code: ... }
const [sum, graph] = await Promise.all([
  everything.get_sum({ a: 2, b: 3 }),   // an upstream MCP server (tool "get-sum")
  memory.read_graph({}),                 // another one
]);
console.log("entities:", graph.entities.length);
return { sum, names: graph.entities.map((e) => e.name) };
