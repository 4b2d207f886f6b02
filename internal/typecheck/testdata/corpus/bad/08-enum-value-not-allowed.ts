// expect: 2:53 TS2769
await memory.create_entities([{ name: "Bad08", entityType: "test", observations: [] }]);
const w = await everything.get_structured_content({ location: "Boston" });
return w.temperature;
