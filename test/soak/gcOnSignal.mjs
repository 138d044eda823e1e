// Loaded into the soak's provider only (with --expose-gc): SIGUSR2 runs a full garbage collection, so the soak
// compares resident memory at rest rather than wherever V8's young generation happened to be.
import process from 'node:process';

process.on('SIGUSR2', () => globalThis.gc?.());
