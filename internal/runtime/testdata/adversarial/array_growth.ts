// expect: memory
// Many small allocations that stay reachable: the memory watchdog must notice.
const a = [];
for (;;) a.push(new Array(1e5).fill(1));
