import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
export const CHART_DIR = join(ROOT, 'charts/aws-secrets-csi-provider');

export interface Helm {
  /** Runs helm with its caches in a temporary home and nothing but the given kubeconfig. */
  run(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** A copy of the chart whose charts/ holds the driver's chart, as `helm dependency build` would leave it. */
  chart: string;
  cleanup(): Promise<void>;
}

/** The driver's upstream chart, from the driver's source the peers installer keeps (the version it builds). */
export async function driverChartDir(gomodcache: string): Promise<string> {
  const versions = await readFile(join(ROOT, 'test/peers/versions.env'), 'utf8');
  const version = /^CSI_DRIVER_VERSION=(\S+)$/m.exec(versions)?.[1];
  if (!version) throw new Error('test/peers/versions.env has no CSI_DRIVER_VERSION');
  return join(gomodcache, `sigs.k8s.io/secrets-store-csi-driver@${version}/charts/secrets-store-csi-driver`);
}

/**
 * helm, offline: the chart declares the driver's chart as a (disabled) dependency, which helm wants in charts/ even
 * so; `helm dependency build` would need the internet, so the driver's chart is packaged from its source instead.
 */
export async function prepareHelm(o: { helm: string; kubeconfigPath: string; gomodcache: string }): Promise<Helm> {
  const dir = await mkdtemp(join(tmpdir(), 'helm-'));
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    HELM_CACHE_HOME: join(dir, 'cache'),
    HELM_CONFIG_HOME: join(dir, 'config'),
    HELM_DATA_HOME: join(dir, 'data'),
    KUBECONFIG: o.kubeconfigPath,
  };
  const helm = (args: string[]) =>
    run(o.helm, args, { env, maxBuffer: 16 * 1024 * 1024 }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`helm ${args.join(' ')} failed: ${err.stderr ?? ''}\n${err.message}`);
    });
  const chart = join(dir, 'aws-secrets-csi-provider');
  await cp(CHART_DIR, chart, { recursive: true });
  await helm(['package', await driverChartDir(o.gomodcache), '--destination', join(chart, 'charts')]);
  return { run: helm, chart, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
