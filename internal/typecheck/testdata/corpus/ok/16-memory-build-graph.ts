await memory.create_entities({
  entities: [
    { name: "Ada", entityType: "person", observations: ["writes programs"] },
    { name: "Analytical Engine", entityType: "machine", observations: ["designed by Babbage"] },
  ],
});
await memory.create_relations({ relations: [{ from: "Ada", to: "Analytical Engine", relationType: "programs" }] });
const graph = await memory.read_graph();
return graph.relations.filter((r) => r.from === "Ada").map((r) => `${r.from} ${r.relationType} ${r.to}`);
