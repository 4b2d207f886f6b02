// Helpers written without parameter types.
function pct(part, whole) {
  return whole === 0 ? 0 : Math.round((part / whole) * 100);
}
function summarize(items) {
  return items.map((i) => i.name).join(", ");
}
const graph = await memory.read_graph();
const people = graph.entities.filter((e) => e.entityType === "person");
return { share: pct(people.length, graph.entities.length), names: summarize(people) };
