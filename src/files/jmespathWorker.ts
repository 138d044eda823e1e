/**
 * The jmesPath worker's entry (a thread of its own, see jmespathWorkers.ts): it evaluates one Mount's jmesPath
 * entries at a time, and writes where it is into the shared progress cells before each, so that the main thread
 * can name the entry that ran out of time. A separate entry of the bundle (scripts/bundle.mjs): it loads only this,
 * extract.ts, budgetedJson.ts and the JMESPath library (~40 KB).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { budgetedJson, type JsonBudgets } from './budgetedJson.js';
import { extractJmesPath, overBudget, type Extraction, type ObjectToExtract } from './extract.js';

export interface WorkerSetup {
  budgets: JsonBudgets;
  /** Int32Array cells: [position of the object in the job, its jmesPath index]. */
  progress: SharedArrayBuffer;
}

export interface ExtractionJob {
  objects: { spec: ObjectToExtract; value: Uint8Array }[];
}

/** Every object's files, or the first refusal (the Mount fails on it, as it would in order). */
export type JobResult = { files: Uint8Array[][] } | Extract<Extraction, { refused: unknown }>;

/** A job's result, or the worker saying it has loaded and listens (its deadlines count from then). */
export type WorkerMessage = JobResult | { ready: true };

const { budgets, progress } = workerData as WorkerSetup;
const cells = new Int32Array(progress);
const port = parentPort;
if (port === null) throw new Error('jmespathWorker.ts runs as a worker thread only');

/**
 * The library's to_string serializes with JSON.stringify, whose output V8 builds outside the heap that the worker's
 * limit caps: `to_string` of a doubled result took the process 270 MB higher before the deadline ended it (Node 22,
 * 2026-12-07). In this thread, which runs nothing else, an array or object is serialized within the budgets of a file
 * instead (the same text); past them, the evaluation fails with a RangeError, which names the budget.
 */
const nativeStringify = JSON.stringify;
JSON.stringify = ((value: unknown, ...rest: unknown[]) => {
  if (rest.length > 0 || typeof value !== 'object' || value === null) return nativeStringify(value, ...(rest as []));
  const written = budgetedJson(value, budgets);
  if ('over' in written) throw new RangeError(`a serialization of ${overBudget(written)}, the limit of one jmesPath file`);
  return written.bytes.toString('utf8');
}) as typeof JSON.stringify;

port.on('message', ({ objects }: ExtractionJob) => {
  const files: Uint8Array[][] = [];
  for (const [position, { spec, value }] of objects.entries()) {
    Atomics.store(cells, 0, position);
    Atomics.store(cells, 1, 0);
    const extraction = extractJmesPath(spec, value, budgets, (i) => Atomics.store(cells, 1, i));
    if ('refused' in extraction) {
      port.postMessage(extraction satisfies JobResult);
      return;
    }
    // Copies of the bytes alone, handed over: a small Buffer is a view of an 8 KiB pool, which a message copies whole.
    files.push(extraction.files.map((file) => new Uint8Array(file)));
  }
  port.postMessage({ files } satisfies JobResult, files.flat().map((file) => file.buffer as ArrayBuffer));
});
port.postMessage({ ready: true } satisfies WorkerMessage);
