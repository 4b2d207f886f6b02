// expect: timeout
// Promise jobs run inside one VM call: they must still be interruptible.
async function spin() {
  for (;;) await null;
}
await spin();
