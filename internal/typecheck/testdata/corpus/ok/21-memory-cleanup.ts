const name = `temp-${Math.floor(Math.random() * 1e6)}`;
await memory.create_entities([{ name, entityType: "scratch", observations: ["one", "two"] }]);
await memory.delete_observations([{ entityName: name, observations: ["one"] }]);
const mid = await memory.open_nodes([name]);
const del = await memory.delete_entities({ entityNames: [name] });
return { left: mid.entities[0].observations, deleted: del.success };
