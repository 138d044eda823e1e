/**
 * The jmesPath workers (src/files/jmespathWorkers.ts) as real worker threads running the entry from the sources:
 * results, refusals, and what each limit does to a hostile path and to the jobs around it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ObjectSpec } from '../../../src/config/types.js';
import { ProviderError } from '../../../src/errors.js';
import { JMESPATH_LIMITS, JmesPathWorkers, type JmesPathWorkerOptions } from '../../../src/files/jmespathWorkers.js';

const SCRIPT = new URL('../../../src/files/jmespathWorker.ts', import.meta.url);
const SECRET = 'hunter2-very-secret';
const VALUE = Buffer.from(JSON.stringify({ username: 'admin', password: SECRET, port: 5432 }));
const stages = (stage: string, n: number) => Array.from({ length: n }, () => stage).join(' | ');
/** Two separately built 40-stage DAGs compared: 2^40 steps of pure computation, no allocation to speak of. */
const SLOW = `(${stages('[@,@]', 40)}) == (${stages('[@,@]', 40)})`;
/** Flattening doubles a real array at each stage: memory, not time. */
const GREEDY = stages('[@,@][]', 40);

function object(index: number, ...paths: string[]): { spec: ObjectSpec; value: Buffer } {
  return {
    spec: {
      index,
      objectType: 'secretsmanager',
      primary: { objectName: `secret-${index}` },
      fileName: `secret-${index}`,
      mode: 0o644,
      jmesPath: paths.map((path, i) => ({ path, objectAlias: `alias-${index}-${i}`, fileName: `alias-${index}-${i}`, mode: 0o644 })),
    },
    value: VALUE,
  };
}

let pools: JmesPathWorkers[] = [];
afterEach(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  pools = [];
});

function workers(options: Partial<JmesPathWorkerOptions> = {}): JmesPathWorkers {
  const pool = new JmesPathWorkers({ ...JMESPATH_LIMITS, script: SCRIPT, timeoutMs: 5_000, ...options });
  pools.push(pool);
  return pool;
}

const signal = () => new AbortController().signal;
const text = (files: Buffer[][]) => files.map((list) => list.map((file) => file.toString('utf8')));

async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  expect((err as ProviderError).message).not.toContain(SECRET);
  return err as ProviderError;
}

// Each test starts workers, which load their entry through tsx: seconds on a busy machine.
describe('JmesPathWorkers', { timeout: 60_000 }, () => {
  it("returns each object's files in its entries' order, none for an object without jmesPath", async () => {
    const files = await workers().extract([object(0, 'username', 'port'), object(1), object(2, '{p: password}')], signal());
    expect(text(files)).toEqual([['admin', '5432'], [], [`{"p":"${SECRET}"}`]]);
  });

  it("refuses with the object's error, as the Mount reports it", async () => {
    const err = await refusal(workers().extract([object(0, 'username'), object(3, 'nothing.here')], signal()));
    expect(err.code).toBe('InvalidObjectValue');
    expect(err.message).toContain('objects[3] "secret-3" jmesPath[0] path "nothing.here"');
  });

  it('refuses a 40-stage [@,@] by a budget of its result, long before its deadline', async () => {
    const err = await refusal(workers().extract([object(0, 'username', stages('[@,@]', 40))], signal()));
    expect(err.code).toBe('InvalidSecretProviderClass');
    expect(err.message).toContain('objects[0] "secret-0" jmesPath[1] path "[@,@] | [@,@]');
    const { maxValues, maxBytes } = JMESPATH_LIMITS.budgets;
    expect(err.message).toMatch(new RegExp(`more than (${maxValues} JSON values|${maxBytes} bytes), the limit of one jmesPath file`));
  });

  it('ends an evaluation past its deadline, naming the entry it was on, and serves the next job with a new worker', async () => {
    const pool = workers({ timeoutMs: 300 });
    const err = await refusal(pool.extract([object(0, 'username'), object(1, 'port', SLOW)], signal()));
    expect(err.code).toBe('InvalidSecretProviderClass');
    expect(err.message).toContain('objects[1] "secret-1" jmesPath[1] path "([@,@]');
    expect(err.message).toContain('was still being evaluated after 300 ms');
    expect(err.message).toContain('--jmespath-timeout');
    expect(text(await pool.extract([object(0, 'username')], signal()))).toEqual([['admin']]);
  });

  it('ends an evaluation that outgrows its heap, and serves the next job with a new worker', async () => {
    const pool = workers({ timeoutMs: 60_000 });
    const err = await refusal(pool.extract([object(4, GREEDY)], signal()));
    expect(err.code).toBe('InvalidSecretProviderClass');
    expect(err.message).toContain('objects[4] "secret-4" jmesPath[0] path "[@,@][]');
    expect(err.message).toMatch(new RegExp(`needed more than the ${JMESPATH_LIMITS.heapMb} MB of memory|outgrew what an evaluation can hold`));
    expect(text(await pool.extract([object(0, 'username')], signal()))).toEqual([['admin']]);
  });

  it('refuses to_string of a doubled result by the budgets of a file, without writing it', async () => {
    const err = await refusal(workers({ timeoutMs: 60_000 }).extract([object(0, `${stages('[@,@]', 40)} | to_string(@)`)], signal()));
    expect(err.code).toBe('InvalidSecretProviderClass');
    expect(err.message).toContain('path "[@,@] | [@,@]');
    expect(err.message).toMatch(/RangeError: a serialization of more than \d+ (JSON values|bytes), the limit of one jmesPath file/);
  });

  it('serializes to_string of an ordinary value as JSON.stringify does', async () => {
    const files = await workers().extract([object(0, 'to_string(@)', 'to_string(username)', 'to_string(port)')], signal());
    // A string is its own to_string.
    expect(text(files)).toEqual([[VALUE.toString(), 'admin', '5432']]);
  });

  it('gives a job queued behind a slow one a worker of its own', async () => {
    const pool = workers({ timeoutMs: 60_000, slowMs: 50 });
    const order: string[] = [];
    const slow = pool.extract([object(0, SLOW)], signal()).then(
      () => order.push('slow answered'),
      () => order.push('slow refused'),
    );
    const quick = pool.extract([object(0, 'username')], signal()).then((files) => order.push(`quick: ${text(files)[0]?.[0]}`));
    await quick;
    expect(order).toEqual(['quick: admin']);
    await pool.close();
    await slow;
    expect(order).toEqual(['quick: admin', 'slow refused']);
  });

  it('queues behind a slow job when no other worker may start, and runs once the slow one is ended', async () => {
    const pool = workers({ timeoutMs: 300, maxWorkers: 1, slowMs: 50 });
    const order: string[] = [];
    const slow = pool.extract([object(0, SLOW)], signal()).catch((err: ProviderError) => order.push(err.code));
    const quick = pool.extract([object(0, 'username')], signal()).then((files) => order.push(`quick: ${text(files)[0]?.[0]}`));
    await Promise.all([slow, quick]);
    expect(order).toEqual(['InvalidSecretProviderClass', 'quick: admin']);
  });

  it('drops a queued job whose Mount stops waiting', async () => {
    const pool = workers({ timeoutMs: 60_000, maxWorkers: 1 });
    const slow = pool.extract([object(0, SLOW)], signal()).catch(() => 'refused');
    const controller = new AbortController();
    const queued = pool.extract([object(0, 'username')], controller.signal).catch((err: Error) => err.name);
    controller.abort();
    await expect(queued).resolves.toBe('AbortError');
    await pool.close();
    await expect(slow).resolves.toBe('refused');
  });

  it('fails a job as an internal error when the worker cannot start, and tries again for the next', async () => {
    const pool = workers({ script: new URL('./no-such-worker.js', SCRIPT) });
    for (let i = 0; i < 2; i++) expect((await refusal(pool.extract([object(0, 'username')], signal()))).code).toBe('Internal');
  });
});
