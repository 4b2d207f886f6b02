// expect: calls
// More calls in total than allowed, even though each one completes.
for (let i = 0; i < 10001; i++) await ns.echo(i);
