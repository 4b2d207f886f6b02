const graph = await memory.read_graph({});
const byType = new Map<string, string[]>();
for (const e of graph.entities) {
  const list = byType.get(e.entityType) ?? [];
  list.push(e.name);
  byType.set(e.entityType, list);
}
return Object.fromEntries([...byType.entries()].map(([type, names]) => [type, names.sort()]));
