// expect: calls
// Calls that each complete, one after another, without end: only the total count
// stops them, whatever it is set to.
for (let i = 0; ; i++) await ns.echo(i);
