// expect: 3:32 TS2551
// A misspelled function: the memory call would have happened first.
await memory.create_entities([{ name: "Bad01", entityType: "test", observations: [] }]);
const total = await everything.get_summ({ a: 2, b: 3 });
return total;
