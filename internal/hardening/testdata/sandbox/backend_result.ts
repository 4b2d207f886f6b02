// expect: memory
// A backend answers with 4 MiB of small objects: as JS values they are far larger than
// the memory limit. The reply is built into values in the sandbox process, not in pctx.
const r = await ns.big({ mib: 4 });
return r.length;
