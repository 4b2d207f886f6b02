// A single required array property, passed alone.
const created = await memory.create_entities([
  { name: "pctx", entityType: "project", observations: ["a Code Mode MCP server"] },
]);
const found = await memory.open_nodes(["pctx"]);
return { created: created.entities.length, observations: found.entities[0]?.observations ?? [] };
