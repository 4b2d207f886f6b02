const a = await everything.echo("hello");
const b = await everything.echo({ message: "world" });
return [a, b].join(" | ");
