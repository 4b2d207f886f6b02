const sum = await everything.get_sum({ a: 1, b: 1 });
console.log("sum", sum);
console.info("info line");
console.warn("warn line");
console.error("error line");
console.debug({ nested: { ok: true } });
return null;
