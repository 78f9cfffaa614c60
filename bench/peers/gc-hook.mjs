// Preloaded into every server under test (`node --expose-gc --import …/gc-hook.mjs`): SIGUSR2
// runs a full garbage collection, so RSS is compared after collection for every peer alike.
const gc = globalThis.gc;
if (typeof gc === 'function') process.on('SIGUSR2', () => gc());
