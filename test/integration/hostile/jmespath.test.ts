/**
 * Hostile jmesPath (issue 22, repro 2): a path that makes its result or its evaluation grow exponentially, on a
 * JSON secret the pod may read, against the provider as the image runs it (the built bundle on the image's Node.js).
 * Each is refused as the SecretProviderClass's fault, naming the object and the path, while the provider goes on
 * answering Version and other Mounts, and its memory stays within the chart's limit.
 */
import { status } from '@grpc/grpc-js';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { builtBundle } from '../../harness/builtBundle.js';
import { chartMemoryLimit, peakRssBytes } from '../../harness/memory.js';
import { createSecret } from '../../harness/moto.js';
import { useMountEnvironment, type PodIdentityFixture } from '../../harness/mountEnvironment.js';

const REGION = 'us-east-1';
const SECRET = 'hostile-test-password-value';
const env = useMountEnvironment({ providerEnv: { AWS_REGION: REGION }, bundle: builtBundle });
/** The issue demands answers "within a second" while and after a hostile Mount runs: a generous bound. */
const PROMPTLY_MS = 1000;

const stages = (stage: string, n: number) => Array.from({ length: n }, () => stage).join(' | ');
const HOSTILE = [
  // A DAG of shared references: 2^40 values to write from 80 array slots (388 bytes in the repro).
  { name: '40 stages of [@,@]', path: stages('[@,@]', 40) },
  // Flattening makes real arrays: the evaluation itself doubles its memory at each stage.
  { name: 'flatten doubling', path: stages('[@,@][]', 40) },
  // The library serializes the DAG itself: exponential time and memory inside to_string.
  { name: 'to_string of a doubled result', path: `${stages('[@,@]', 40)} | to_string(@)` },
];

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

let who: PodIdentityFixture;

beforeAll(async () => {
  who = await env.pod('hostile');
});
// moto is reset before each test. Then a provider in service: the pod's credentials cached, a jmesPath worker started.
beforeEach(async () => {
  await createSecret(REGION, 'hostile/json', JSON.stringify({ username: 'admin', password: SECRET }));
  await createSecret(REGION, 'hostile/plain', 'plain value');
  await normalMounts();
});

/** A Mount with no jmesPath, and one whose jmesPath is ordinary. */
async function normalMounts(): Promise<{ ms: number; files: Record<string, string> }[]> {
  const plain = timed(() => env.mount(who, { objects: [{ objectName: 'hostile/plain', objectType: 'secretsmanager' }] }));
  const extracted = timed(() =>
    env.mount(who, {
      objects: [{ objectName: 'hostile/json', objectType: 'secretsmanager', objectAlias: 'json', jmesPath: [{ path: 'username', objectAlias: 'user' }] }],
    }),
  );
  return (await Promise.all([plain, extracted])).map(({ ms, value }) => ({
    ms,
    files: Object.fromEntries(value.files.map((f) => [f.path, f.contents.toString()])),
  }));
}

function expectNormal(answers: { ms: number; files: Record<string, string> }[]): void {
  expect(answers.map(({ files }) => files)).toEqual([
    { hostile_plain: 'plain value' },
    { json: JSON.stringify({ username: 'admin', password: SECRET }), user: 'admin' },
  ]);
  for (const { ms } of answers) expect(ms).toBeLessThan(PROMPTLY_MS);
}

describe('a hostile jmesPath', () => {
  for (const { name, path } of HOSTILE) {
    it(`${name}: refused naming the object and the path, while Version and other Mounts are answered`, async () => {
      const hostile = env
        .mount(
          who,
          { objects: [{ objectName: 'hostile/json', objectType: 'secretsmanager', jmesPath: [{ path, objectAlias: 'bomb' }] }] },
        )
        .then(
          () => undefined,
          (err: { code: number; details: string }) => err,
        );
      // While it runs.
      const version = timed(() => env.provider.client.version());
      const during = normalMounts();
      expect((await version).ms).toBeLessThan(PROMPTLY_MS);
      expectNormal(await during);

      const refused = await hostile;
      expect(refused, 'the hostile Mount must fail and return no files').toBeDefined();
      expect(status[refused!.code]).toBe('INVALID_ARGUMENT');
      expect(refused!.details).toMatch(/^InvalidSecretProviderClass: objects\[0\] "hostile\/json" jmesPath\[0\] path "\[@,@\]/);
      // Which limit, with its number.
      expect(refused!.details).toMatch(
        /more than \d+ (JSON values|bytes), the limit of one jmesPath file|more than the \d+ MB of memory|after \d+ ms|outgrew what an evaluation can hold/,
      );
      expect(refused!.details).not.toContain(SECRET);

      // And after.
      expect((await timed(() => env.provider.client.version())).ms).toBeLessThan(PROMPTLY_MS);
      expectNormal(await normalMounts());
    });
  }

  it("kept the provider's memory within the chart's limit throughout", () => {
    expect(peakRssBytes(env.provider.process.pid!)).toBeLessThan(chartMemoryLimit());
    expect(env.provider.output()).not.toContain(SECRET);
  });
});
