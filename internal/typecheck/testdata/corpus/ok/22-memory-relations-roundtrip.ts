type Rel = { from: string; to: string; relationType: string };
const rel: Rel = { from: "Grace", to: "Ada", relationType: "admires" };
await memory.create_entities([
  { name: "Grace", entityType: "person", observations: [] },
  { name: "Ada", entityType: "person", observations: [] },
]);
await memory.create_relations([rel]);
const before = (await memory.read_graph()).relations.some((r) => r.relationType === "admires");
const res = await memory.delete_relations({ relations: [rel] });
return { before, message: res.message };
