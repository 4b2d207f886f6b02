// expect: memory
// Millions of empty objects from one JSON.parse: tiny text per object, large objects.
let s = "{}";
while (s.length < 12e6) s = s + "," + s;
return JSON.parse("[" + s + "]").length;
