import { Worker } from 'node:worker_threads';
import { abortError } from '../abortable.js';
import { asProviderError, invalidSpc, ProviderError } from '../errors.js';
import type { JsonBudgets } from './budgetedJson.js';
import { describeJmesPath, GROWTH_HINT, type Refusal } from './extract.js';
import type { ExtractionJob, JobResult, WorkerMessage, WorkerSetup } from './jmespathWorker.js';
import type { FetchedObject } from './render.js';

type FetchedValue = Pick<FetchedObject, 'spec' | 'value'>;

/** Where a Mount's jmesPath files come from (the render stage's one asynchronous step). */
export interface JmesPathExtractor {
  /** Each object's jmesPath files in its entries' order, [] for an object without jmesPath. */
  extract(objects: readonly FetchedValue[], signal: AbortSignal): Promise<Buffer[][]>;
}

/**
 * The limits besides the deadline (README, jmesPath limits). A secret holds at most 64 KiB, and a JSON text of n bytes
 * at most n/2 values: a file of 100,000 values or 1 MiB is far beyond what selecting from a secret gives.
 */
export const JMESPATH_LIMITS = {
  budgets: { maxValues: 100_000, maxBytes: 1024 * 1024 },
  maxWorkers: 2,
  heapMb: 8,
  slowMs: 100,
} as const satisfies Omit<JmesPathWorkerOptions, 'script' | 'timeoutMs'>;

export interface JmesPathWorkerOptions {
  /** The worker's entry: dist/src/files/jmespathWorker.js in the bundle, src/files/jmespathWorker.ts in the sources. */
  script: URL;
  /** How long one Mount's jmesPath entries may take together (--jmespath-timeout). */
  timeoutMs: number;
  budgets: JsonBudgets;
  /** Workers at most, each started when first needed. */
  maxWorkers: number;
  /** A worker's V8 heap (old generation), MB. */
  heapMb: number;
  /** A job running this long counts as slow: a job queued behind it gets a worker of its own, up to maxWorkers. */
  slowMs: number;
}

interface Job {
  objects: readonly FetchedValue[];
  signal: AbortSignal;
  resolve(files: Uint8Array[][]): void;
  reject(err: unknown): void;
}

interface Running {
  job: Job;
  slow: boolean;
  timers: NodeJS.Timeout[];
}

interface Slot {
  worker: Worker;
  /** [position of the object in the job, its jmesPath index], written by the worker before each entry. */
  progress: Int32Array;
  /** Whether the worker has loaded its entry and listens. */
  ready: boolean;
  running?: Running;
}

/** How long a worker may take to load its entry (~50 ms from the bundle on an idle machine). */
const START_MS = 10_000;

/**
 * Evaluates jmesPath entries in worker threads, so that no expression can hold the event loop: a pod's path can
 * build a result that doubles at each step (`[@,@] | [@,@] | …`), or make the library itself do exponential work
 * (flatten, to_string, sort on such a result). Each Mount's entries run as one job with a deadline, in a worker whose
 * heap is capped; past either, the worker is terminated and the Mount refused as its SecretProviderClass's fault.
 * The result is written within budgets as it is walked (budgetedJson.ts). Nothing starts before the first Mount
 * that has jmesPath entries; one worker serves them in turn, and a second starts only when a job waits behind a slow
 * one, so a hostile path delays the others by at most `slowMs`.
 */
export class JmesPathWorkers implements JmesPathExtractor {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(private readonly options: JmesPathWorkerOptions) {}

  async extract(objects: readonly FetchedValue[], signal: AbortSignal): Promise<Buffer[][]> {
    const withPaths = objects.filter(({ spec }) => spec.jmesPath.length > 0);
    // A running job is not abandoned: its deadline ends it. A queued one leaves the queue when its Mount stops waiting.
    let onAbort = () => {};
    const files = await new Promise<Uint8Array[][]>((resolve, reject) => {
      if (signal.aborted || this.closed) return reject(abortError(signal));
      const job: Job = { objects: withPaths, signal, resolve, reject };
      onAbort = () => {
        const at = this.queue.indexOf(job);
        if (at < 0) return;
        this.queue.splice(at, 1);
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.dispatch();
    }).finally(() => signal.removeEventListener('abort', onAbort));
    let next = 0;
    return objects.map(({ spec }) =>
      spec.jmesPath.length === 0 ? [] : (files[next++] ?? []).map((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
    );
  }

  /** Ends every worker; queued jobs are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const stopping = abortError(AbortSignal.abort());
    for (const job of this.queue.splice(0)) job.reject(stopping);
    await Promise.all([...this.slots].map((slot) => this.retire(slot, stopping)));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = [...this.slots].find((s) => s.running === undefined) ?? (this.mayStart() ? this.start() : undefined);
      if (slot === undefined) return;
      this.run(slot, this.queue.shift() as Job);
    }
  }

  /** Another worker only while every one is busy with a slow job: a burst of quick jobs queues for the first. */
  private mayStart(): boolean {
    return this.slots.size < this.options.maxWorkers && [...this.slots].every((s) => s.running?.slow === true);
  }

  private start(): Slot {
    const progress = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
    const setup: WorkerSetup = { budgets: this.options.budgets, progress };
    const worker = spawnWorker(this.options.script, {
      workerData: setup,
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb },
    });
    // A worker does not keep the process alive; a running job's timers do.
    worker.unref();
    const slot: Slot = { worker, progress: new Int32Array(progress), ready: false };
    // A start that hangs would hold its job until the Mount's deadline, and the worker for ever.
    const starting = setTimeout(() => void this.retire(slot, asProviderError(new Error('jmesPath worker did not start'))), START_MS);
    worker.on('message', (message: WorkerMessage) => {
      if (!('ready' in message)) return this.finish(slot, message);
      clearTimeout(starting);
      slot.ready = true;
      if (slot.running) this.startClock(slot, slot.running);
    });
    worker.on('error', (err: Error & { code?: string }) =>
      void this.retire(slot, err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? this.outOfMemory(slot) : asProviderError(err)),
    );
    worker.on('exit', () => {
      clearTimeout(starting);
      void this.retire(slot, asProviderError(new Error('jmesPath worker exited')));
    });
    this.slots.add(slot);
    return slot;
  }

  private run(slot: Slot, job: Job): void {
    Atomics.store(slot.progress, 0, 0);
    Atomics.store(slot.progress, 1, 0);
    const running: Running = { job, slow: false, timers: [] };
    slot.running = running;
    // The deadline counts from the worker's start, not from its spawn: loading it takes time under load.
    if (slot.ready) this.startClock(slot, running);
    // Copies of the values' bytes alone: a Buffer is often a view of a larger pool, which a message would copy whole.
    const message: ExtractionJob = {
      objects: job.objects.map(({ spec, value }) => ({
        spec: { index: spec.index, primary: spec.primary, jmesPath: spec.jmesPath },
        value: new Uint8Array(value),
      })),
    };
    slot.worker.postMessage(message, message.objects.map(({ value }) => value.buffer as ArrayBuffer));
  }

  private startClock(slot: Slot, running: Running): void {
    running.timers.push(
      setTimeout(() => void this.retire(slot, this.timedOut(slot)), this.options.timeoutMs),
      // A job queued behind this one may start a worker of its own once this one is slow.
      setTimeout(() => {
        running.slow = true;
        this.dispatch();
      }, this.options.slowMs),
    );
  }

  private finish(slot: Slot, result: JobResult): void {
    const running = this.settle(slot);
    if (running === undefined) return;
    if ('refused' in result) running.job.reject(refusalError(result.refused));
    else running.job.resolve(result.files);
    this.dispatch();
  }

  /**
   * Ends a worker (past its deadline, out of memory, failed or stopping), refusing its job with `err`. The last
   * worker is replaced at once, so that the next Mount does not wait for a start (unless it never started: a broken
   * entry would start and fail in a loop).
   */
  private async retire(slot: Slot, err: unknown): Promise<void> {
    if (!this.slots.delete(slot)) return;
    this.settle(slot)?.job.reject(err);
    if (slot.ready && this.slots.size === 0 && !this.closed) this.start();
    this.dispatch();
    await slot.worker.terminate();
  }

  private settle(slot: Slot): Running | undefined {
    const { running } = slot;
    if (running === undefined) return undefined;
    running.timers.forEach(clearTimeout);
    slot.running = undefined;
    return running;
  }

  /** The entry the worker was evaluating: the progress cells name it. */
  private current(slot: Slot): string {
    const objects = slot.running?.job.objects ?? [];
    const object = objects[Atomics.load(slot.progress, 0)] ?? objects[0];
    return object === undefined ? 'jmesPath' : describeJmesPath(object.spec, Atomics.load(slot.progress, 1));
  }

  private timedOut(slot: Slot): ProviderError {
    return invalidSpc(
      `${this.current(slot)} was still being evaluated after ${this.options.timeoutMs} ms, the limit of one Mount's ` +
        `jmesPath entries (--jmespath-timeout). ${GROWTH_HINT}`,
    );
  }

  private outOfMemory(slot: Slot): ProviderError {
    return invalidSpc(
      `${this.current(slot)} needed more than the ${this.options.heapMb} MB of memory a jmesPath evaluation may ` +
        `use. ${GROWTH_HINT}`,
    );
  }
}

/** The error a Mount fails with when its extraction refused an object (extract.ts runs where gRPC is not loaded). */
export function refusalError({ code, message }: Refusal): ProviderError {
  return new ProviderError(code, message);
}

/**
 * From the sources (the tests run src/main.ts through tsx), a worker does not inherit tsx's loader on Node 20 and 22
 * (privatenumber/tsx#354), so it registers it before loading the entry. The bundle's entry is plain JavaScript.
 */
function spawnWorker(script: URL, options: ConstructorParameters<typeof Worker>[1]): Worker {
  if (!script.pathname.endsWith('.ts')) return new Worker(script, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
