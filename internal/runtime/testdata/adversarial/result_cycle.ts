// expect: result
const o: any = { list: [] };
o.list.push({ parent: o });
return o;
