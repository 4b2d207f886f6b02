await memory.create_entities([{ name: "Grace", entityType: "person", observations: [] }]);
const added = await memory.add_observations({
  observations: [{ entityName: "Grace", contents: ["wrote a compiler", "found a moth"] }],
});
const grace = (await memory.open_nodes({ names: ["Grace"] })).entities.find((e) => e.name === "Grace");
return { added: added.results.flatMap((r) => r.addedObservations).length, now: grace?.observations.length };
