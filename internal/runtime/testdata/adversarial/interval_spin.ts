// expect: timeout
setInterval(() => {}, 0);
await new Promise(() => {});
