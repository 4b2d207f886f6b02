// expect: unsettled
// Nothing can ever resolve this promise: reported at once, not after the timeout.
await new Promise(() => {});
