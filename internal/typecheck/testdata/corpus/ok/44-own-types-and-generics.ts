interface Summary<T> { count: number; sample: T[] }
function summarize<T>(items: T[], n = 2): Summary<T> {
  return { count: items.length, sample: items.slice(0, n) };
}
type Entity = { name: string; entityType: string };
const graph = await memory.read_graph();
const entities: Entity[] = graph.entities.map(({ name, entityType }) => ({ name, entityType }));
const s = summarize(entities);
return s.sample.map((e) => `${e.name}:${e.entityType}`).concat(String(s.count));
