// expect: ok
// Pollution stays in this execution: the next one gets a fresh VM.
(Object.prototype as any).polluted = "yes";
(Array.prototype as any).push = () => 0;
(globalThis as any).JSON = null;
return "polluted";
