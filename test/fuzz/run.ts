/**
 * `npm run fuzz`: the property of test/unit/fuzz/mountInputs.test.ts on many more inputs (default 100,000;
 * `npm run fuzz -- 250000` for more, `--seed=N` to replay). Prints the count, the time, what the inputs came to,
 * and the first failure with its seed and path, then exits non-zero on a failure or an unhandled rejection.
 */
import fc from 'fast-check';
import { mountInputProperty, type Verdict } from './mountInputs.js';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
const seedArg = args.find((a) => a.startsWith('--seed='));
const seed = seedArg ? Number(seedArg.slice('--seed='.length)) : Date.now() ^ (Math.random() * 2 ** 31);

let unhandled = 0;
process.on('unhandledRejection', (reason) => {
  unhandled++;
  console.error('unhandled rejection:', reason);
});

const tally = { config: 0, rejected: 0, files: 0, codes: new Map<string, number>() };
const count = (verdict: Verdict) => {
  if (verdict.kind === 'config') {
    tally.config++;
    tally.files += verdict.files;
  } else {
    tally.rejected++;
    tally.codes.set(verdict.code, (tally.codes.get(verdict.code) ?? 0) + 1);
  }
};

const started = performance.now();
let progress = started;
const result = await fc.check(
  mountInputProperty((verdict) => {
    count(verdict);
    const done = tally.config + tally.rejected;
    if (performance.now() - progress > 10_000) {
      progress = performance.now();
      console.log(`… ${done} inputs`);
    }
  }),
  { numRuns: runs, seed, endOnFailure: false },
);
const seconds = (performance.now() - started) / 1000;

console.log(`fuzz: ${result.numRuns} inputs in ${seconds.toFixed(1)} s (${Math.round(result.numRuns / seconds)}/s), seed ${seed}`);
console.log(`  valid configs rendered: ${tally.config} (${tally.files} files)`);
console.log(`  refused with INVALID_ARGUMENT: ${tally.rejected}`);
for (const [code, n] of [...tally.codes].sort((a, b) => b[1] - a[1])) console.log(`    ${code}: ${n}`);
console.log(`  unhandled rejections: ${unhandled}`);
if (result.failed) {
  console.log(`FAILURE after ${result.numRuns} inputs (replay: npm run fuzz -- --seed=${seed}, path ${result.counterexamplePath}):`);
  console.log(fc.defaultReportMessage(result) ?? String(result.errorInstance));
}
const failed = result.failed || unhandled > 0;
console.log(failed ? 'fuzz: FAILED' : 'fuzz: 0 failures');
process.exit(failed ? 1 : 0);
