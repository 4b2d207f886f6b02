const started = Date.now();
const msg = await everything.trigger_long_running_operation({ duration: 1, steps: 2 });
return { msg, tookAtLeast: Date.now() - started >= 500 };
