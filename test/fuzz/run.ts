/**
 * `npm run fuzz`, in three parts:
 * 1. the property of test/unit/fuzz/mountInputs.test.ts on many more inputs (default 100,000; `npm run fuzz -- 250000`
 *    for more);
 * 2. the hostile shapes of hostileInputs.ts (issue 22: quoted and commented brackets, wide maps, long flow lists,
 *    alias fan-out, texts near the size limit, disguised names) through the same property (`--hostile=N`, default 300);
 * 3. the hostile shapes against the provider process, the built bundle on the image's Node.js, which must refuse each
 *    one and keep serving within the chart's memory limit (`--process=N`, default 200; needs the peers and the build).
 * `--seed=N` replays. Prints counts, times, what the inputs came to and the first failure with its seed, then exits
 * non-zero on a failure or an unhandled rejection.
 */
import fc from 'fast-check';
import { hostileObjectsArb } from './hostileInputs.js';
import { mountInputProperty, requestWithObjects, type Verdict } from './mountInputs.js';
import { fuzzProcess } from './process.js';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const hostileRuns = Number(option('hostile') ?? 300);
const processRuns = Number(option('process') ?? 200);
const seed = Number(option('seed') ?? Date.now() ^ (Math.random() * 2 ** 31));

let unhandled = 0;
process.on('unhandledRejection', (reason) => {
  unhandled++;
  console.error('unhandled rejection:', reason);
});

interface Tally {
  config: number;
  rejected: number;
  files: number;
  codes: Map<string, number>;
}

async function inProcess(name: string, numRuns: number, requests?: fc.Arbitrary<ReturnType<typeof requestWithObjects>>) {
  const tally: Tally = { config: 0, rejected: 0, files: 0, codes: new Map() };
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
      if (performance.now() - progress > 10_000) {
        progress = performance.now();
        console.log(`… ${tally.config + tally.rejected} inputs`);
      }
    }, requests),
    { numRuns, seed, endOnFailure: false },
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name}: ${result.numRuns} inputs in ${seconds.toFixed(1)} s (${Math.round(result.numRuns / seconds)}/s), seed ${seed}`);
  console.log(`  valid configs rendered: ${tally.config} (${tally.files} files)`);
  console.log(`  refused with INVALID_ARGUMENT: ${tally.rejected}`);
  for (const [code, n] of [...tally.codes].sort((a, b) => b[1] - a[1])) console.log(`    ${code}: ${n}`);
  if (result.failed) {
    console.log(`FAILURE after ${result.numRuns} inputs (replay: npm run fuzz -- --seed=${seed}, path ${result.counterexamplePath}):`);
    console.log(fc.defaultReportMessage(result) ?? String(result.errorInstance));
  }
  return result.failed;
}

let failed = await inProcess('fuzz', runs);
failed = (await inProcess('fuzz, hostile shapes', hostileRuns, hostileObjectsArb.map(({ objects }) => requestWithObjects(objects)))) || failed;

const started = performance.now();
const processed = await fuzzProcess(processRuns, seed);
const seconds = (performance.now() - started) / 1000;
console.log(`fuzz, hostile shapes against the provider process: ${processed.runs} Mounts in ${seconds.toFixed(1)} s, seed ${seed}`);
for (const [shape, codes] of [...processed.byShape].sort()) {
  console.log(`  ${shape}: ${[...codes].map(([code, n]) => `${code} ${n}`).join(', ')}`);
}
console.log(`  peak RSS: ${processed.peakRssMiB.toFixed(1)} MiB`);
for (const failure of processed.failures.slice(0, 10)) console.log(`FAILURE ${failure}`);
failed = failed || processed.failures.length > 0;

console.log(`  unhandled rejections: ${unhandled}`);
failed = failed || unhandled > 0;
console.log(failed ? 'fuzz: FAILED' : 'fuzz: 0 failures');
process.exit(failed ? 1 : 0);
