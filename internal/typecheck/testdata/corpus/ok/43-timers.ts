const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const started = Date.now();
await sleep(20);
let ticks = 0;
await new Promise<void>((resolve) => {
  const id = setInterval(() => {
    ticks++;
    if (ticks === 3) {
      clearInterval(id);
      resolve();
    }
  }, 5);
});
const t = setTimeout(() => { throw new Error("never"); }, 1000);
clearTimeout(t);
return { waited: Date.now() - started >= 20, ticks };
