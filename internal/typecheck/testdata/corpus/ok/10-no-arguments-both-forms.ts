// Functions without parameters are called both ways by agents.
const [a, b] = await Promise.all([everything.get_tiny_image(), everything.get_tiny_image({})]);
const graph = await memory.read_graph({});
const again = await memory.read_graph();
return { same: JSON.stringify(a) === JSON.stringify(b), entities: graph.entities.length === again.entities.length };
