// expect: 2:5 TS2322
await memory.create_entities([{ name: "Bad06", entityType: "test", observations: [] }]);
let a: string = 5;
return a;
