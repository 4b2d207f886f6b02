// expect: runtime
// An argument of length 2^32-1 (all holes): converting it for the call is bounded by the
// argument size limit, and the program sees a TypeError it could catch.
return await ns.echo({ value: new Array(2 ** 32 - 1) });
