// expect: 3:3 TS1308
const graph = await memory.read_graph();
graph.entities.forEach((e) => {
  await memory.add_observations([{ entityName: e.name, contents: ["seen"] }]);
});
