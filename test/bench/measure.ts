/**
 * What the benchmark measures, as plain functions: percentiles, AWS calls from the fault proxy's record (and
 * the sequential waves they came in), the provider's own metrics, the apiserver's audit log, and a process's
 * memory and CPU from /proc. The perf tests use the same counting functions, so a figure in the README and an
 * assertion in CI are counted the same way.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { RecordedRequest } from '../harness/faultProxy.js';

/** Nearest-rank percentile (p in 0..100) of the values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface CallCounts {
  /** Every AWS call the proxy saw, STS included. */
  total: number;
  /** Secrets Manager and SSM calls: what the mount fetched. */
  fetch: number;
  sts: number;
  /** `service:Action` → count. */
  byAction: Record<string, number>;
  /** region (from the SigV4 scope; unsigned STS calls have none) → count. */
  byRegion: Record<string, number>;
}

export function countCalls(records: readonly RecordedRequest[]): CallCounts {
  const byAction: Record<string, number> = {};
  const byRegion: Record<string, number> = {};
  let sts = 0;
  let fetch = 0;
  for (const record of records) {
    const action = `${record.service ?? '?'}:${record.action ?? '?'}`;
    byAction[action] = (byAction[action] ?? 0) + 1;
    if (record.region !== undefined) byRegion[record.region] = (byRegion[record.region] ?? 0) + 1;
    if (record.service === 'sts') sts++;
    if (record.service === 'secretsmanager' || record.service === 'ssm') fetch++;
  }
  return { total: records.length, fetch, sts, byAction, byRegion };
}

/**
 * How many sequential round trips of injected latency the calls took: calls arriving within `delayMs` of the
 * first call of a wave were sent together (none of them could have waited for an answer, which takes at least
 * `delayMs`); a call arriving later starts the next wave.
 */
export function callWaves(records: readonly RecordedRequest[], delayMs: number): number {
  const times = records.map((r) => r.at).sort((a, b) => a - b);
  let waves = 0;
  let waveStart = -Infinity;
  for (const at of times) {
    if (at - waveStart >= delayMs) {
      waves++;
      waveStart = at;
    }
  }
  return waves;
}

/** Sum of every sample of a Prometheus counter whose labels contain all of `labels` (text exposition format). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const close = line.lastIndexOf('}');
    const labelText = close < 0 ? '' : line.slice(name.length + 1, close);
    if (Object.entries(labels).some(([key, value]) => !labelText.includes(`${key}="${value}"`))) continue;
    sum += Number(line.slice(close < 0 ? name.length + 1 : close + 2));
  }
  return sum;
}

export async function fetchMetrics(metricsUrl: string): Promise<string> {
  const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${metricsUrl}/metrics answered HTTP ${res.status}`);
  return res.text();
}

/** The provider's own count of its Kubernetes API calls, by resource. */
export function kubernetesCalls(text: string): Record<'serviceaccounts' | 'pods' | 'nodes', number> {
  const of = (resource: string) => metricSum(text, 'aws_provider_kubernetes_api_calls_total', { resource });
  return { serviceaccounts: of('serviceaccounts'), pods: of('pods'), nodes: of('nodes') };
}

export interface AuditEvent {
  verb?: string;
  stage?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string };
}

/** Every event of an apiserver audit log (JSON lines); none when the file does not exist. */
export async function readAuditLog(path: string): Promise<AuditEvent[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as AuditEvent);
}

/** `get`s of serviceaccounts, pods and nodes in `namespaces`, by resource: what a provider reads. */
export function auditedReads(
  events: readonly AuditEvent[],
  namespaces: ReadonlySet<string>,
): Record<'serviceaccounts' | 'pods' | 'nodes', number> {
  const counts = { serviceaccounts: 0, pods: 0, nodes: 0 };
  for (const event of events) {
    const ref = event.objectRef;
    if (event.verb !== 'get' || ref?.subresource !== undefined || event.stage !== 'ResponseComplete') continue;
    if (ref?.resource === 'nodes') counts.nodes++;
    else if ((ref?.resource === 'serviceaccounts' || ref?.resource === 'pods') && namespaces.has(ref.namespace ?? '')) {
      counts[ref.resource]++;
    }
  }
  return counts;
}

export interface ProcMemory {
  /** Resident set now, MB. */
  rssMb: number;
  /** Peak resident set since the process started (VmHWM), MB. */
  hwmMb: number;
}

export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** User + system CPU time the process used so far, in ms (utime and stime of /proc/<pid>/stat). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / clockTicksPerSecond;
}

// sysconf(_SC_CLK_TCK) is 100 on every Linux Node runs on.
const clockTicksPerSecond = 100;

/** Samples a process's memory every `everyMs` until stopped; resolves with the highest RSS seen. */
export function sampleMemory(pid: number, everyMs = 10): { stop(): { peakRssMb: number; samples: number } } {
  let peak = 0;
  let samples = 0;
  const take = () => {
    try {
      peak = Math.max(peak, procMemory(pid).rssMb);
      samples++;
    } catch {
      // The process is gone; the last sample stands.
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peakRssMb: peak, samples };
    },
  };
}
