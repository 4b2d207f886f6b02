const { entities, relations } = await memory.read_graph();
const payload = JSON.stringify({ entities: entities.length, relations: relations.length });
const parsed: { entities: number; relations: number } = JSON.parse(payload);
const { entities: e, ...rest } = parsed;
return { e, ...rest, keys: Object.keys(parsed) };
