import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const ROOT = new URL('../../', import.meta.url).pathname;

/** The resident memory of a process (VmRSS), in bytes. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/** The peak resident memory of a process since it started (the kernel's high-water mark, VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  return statusBytes(pid, 'VmHWM');
}

function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kib = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`no ${field} for pid ${pid}`);
  return Number(kib) * 1024;
}

/** The chart's container memory limit in bytes, as charts/aws-secrets-csi-provider/values.yaml sets it (e.g. 384Mi). */
export function chartMemoryLimit(): number {
  const values = parse(readFileSync(`${ROOT}charts/aws-secrets-csi-provider/values.yaml`, 'utf8')) as {
    resources: { limits: { memory: string } };
  };
  const match = /^(\d+)Mi$/.exec(values.resources.limits.memory);
  if (!match) throw new Error(`the chart's memory limit is not written in Mi: ${values.resources.limits.memory}`);
  return Number(match[1]) * 1024 * 1024;
}
