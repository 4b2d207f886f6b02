// ES2023 array methods and the ES2025 Set methods goja has.
const graph = await memory.read_graph();
const names = graph.entities.map((e) => e.name);
const last = names.findLast((n) => n.length > 2);
const sorted = names.toSorted();
const reversed = sorted.toReversed();
const a = new Set(names);
const b = new Set(["Ada", "Nobody"]);
return { last, first: sorted.at(0), reversedFirst: reversed.at(0), both: [...a.intersection(b)], any: a.union(b).size };
