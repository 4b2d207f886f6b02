const [sum, graph, dirs, weather, sentiment] = await Promise.all([
  everything.get_sum({ a: 40, b: 2 }),
  memory.read_graph(),
  filesystem.list_allowed_directories(),
  tools.get_weather("Lisbon"),
  data.analyze_sentiment("great release, fast and stable"),
]);
return {
  sum,
  entities: graph.entities.length,
  root: dirs.content.split("\n")[1] !== undefined,
  weather,
  mood: Object.entries(sentiment).sort(([, a], [, b]) => b - a)[0][0],
};
