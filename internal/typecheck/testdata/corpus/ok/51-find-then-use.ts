// Dereferencing what find() returns, as agents do when they know it is there.
await memory.create_entities([{ name: "Ada", entityType: "person", observations: ["writes programs"] }]);
const graph = await memory.read_graph();
const ada = graph.entities.find((e) => e.name === "Ada");
return ada.observations.length;
