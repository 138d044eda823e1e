import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { ROLE_ANNOTATION } from '../../fixtures/identity.js';
import { DRIVER_NAME } from '../csi/driver.js';
import { startFaultProxy, type FaultProxy } from '../faultProxy.js';
import { CHART_DIR, prepareHelm, type Helm } from '../helm.js';
import { coreV1, createServiceAccount, ensureNamespace, kubeConfig } from '../kube.js';
import { usePeers } from '../peers.js';
import { freePort } from '../start/net.js';
import { useNode } from './info.js';

const peers = usePeers();
const node = useNode();

/** Where a test pod mounts its secrets volume. */
export const MOUNT_PATH = '/mnt/secrets-store';

/** The provider installed by `helm install` of our chart, values only, and the fault proxy its AWS calls go to. */
export interface InstalledProvider {
  helm: Helm;
  release: string;
  namespace: string;
  proxy: FaultProxy;
  /** `helm upgrade` of the same release with more values (merged over the install's). */
  upgrade(values: Record<string, unknown>): Promise<void>;
  uninstall(): Promise<void>;
}

/**
 * The values the test node needs, and only values: the image imported into containerd (never pulled), the node's
 * network (no pod network here), AWS at the fault proxy on loopback, and the apiserver at its loopback address
 * (there is no kube-proxy for the `kubernetes` Service).
 */
export function nodeValues(proxyUrl: string, metricsPort: number): Record<string, unknown> {
  const version = (JSON.parse(readFileSync(join(CHART_DIR, '../../package.json'), 'utf8')) as { version: string }).version;
  const [repository, tag] = node.images.provider.split(/:(?=[^:]+$)/) as [string, string];
  if (tag !== version) throw new Error(`the imported image ${node.images.provider} is not the package version ${version}`);
  const apiserverPort = new URL(peers.kube.server).port;
  return {
    image: { repository, tag, pullPolicy: 'Never' },
    hostNetwork: true,
    // The node runs the driver as a host process (test/harness/node/globalSetup.ts), not the chart's subchart.
    'secrets-store-csi-driver': { install: false },
    port: metricsPort,
    providerVolume: node.providerVolume,
    env: [
      { name: 'AWS_ENDPOINT_URL', value: proxyUrl },
      { name: 'KUBERNETES_SERVICE_HOST', value: '127.0.0.1' },
      { name: 'KUBERNETES_SERVICE_PORT', value: apiserverPort },
    ],
    // kubelet re-publishes here every ~10 s: a TTL of that order keeps the answer cache in play while the rotation
    // cases, whose bound was set before it, see their new values within it (the default, 2m, is the driver's poll).
    extraArgs: ['--rotation-cache-ttl=10s'],
  };
}

/** Helm's --set-json, one flag per top-level key. */
function setJson(values: Record<string, unknown>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ['--set-json', `${key}=${JSON.stringify(value)}`]);
}

/**
 * Starts the fault proxy at the node's fixed port, then `helm install --wait` of the chart into kube-system; resolves
 * once the DaemonSet's pod is Ready (its readiness probe: the socket answers Version).
 */
export async function installProvider(
  release: string,
  metricsPort: number,
  extra: Record<string, unknown> = {},
  /** Regions whose STS the proxy serves on a listener of its own, given to the provider as --sts-endpoints. */
  stsRegions: readonly string[] = [],
): Promise<InstalledProvider> {
  const proxy = await startFaultProxy(peers.motoUrl, { port: node.faultProxyPort, stsRegions });
  const helm = await prepareHelm({ helm: peers.binaries.helm, kubeconfigPath: peers.kube.kubeconfigPath, gomodcache: peers.gomodcache });
  const namespace = 'kube-system';
  const base = nodeValues(proxy.url, metricsPort);
  const extraArgs = [
    ...(base.extraArgs as string[]),
    ...((extra.extraArgs as string[] | undefined) ?? []),
    ...(stsRegions.length > 0 ? [`--sts-endpoints=${proxy.stsEndpoints}`] : []),
  ];
  const values = { ...base, ...extra, extraArgs };
  await helm.run(['install', release, helm.chart, '--namespace', namespace, '--wait', '--timeout', '3m', ...setJson(values)]);
  return {
    helm,
    release,
    namespace,
    proxy,
    async upgrade(more) {
      await helm.run(['upgrade', release, helm.chart, '--namespace', namespace, '--wait', '--timeout', '3m', ...setJson({ ...values, ...more })]);
    },
    async uninstall() {
      await helm.run(['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '2m']);
    },
  };
}

export interface NodeProviderOptions {
  /** Values over the node's own, read when the file starts (after earlier hooks, e.g. an agent's URLs). */
  values?: () => Record<string, unknown>;
  /** Regions whose STS the proxy serves on a listener of its own. */
  stsRegions?: readonly string[];
  /** The IRSA ServiceAccount `app` in the namespace (default true). */
  appServiceAccount?: boolean;
}

/**
 * A node test file's provider: `helm install` of the chart (release `aws-provider`) before the file, the file's
 * namespace with, unless told otherwise, the IRSA ServiceAccount `app`; after the file the namespace, the release
 * and the fault proxy go. Returns the installed provider, available once the file's first hook has run.
 */
export function useNodeProvider(namespace: string, options: NodeProviderOptions = {}): () => InstalledProvider {
  let provider: InstalledProvider | undefined;
  beforeAll(async () => {
    provider = await installProvider('aws-provider', await freePort(), options.values?.(), options.stsRegions);
    await ensureNamespace(namespace);
    if (options.appServiceAccount ?? true) {
      await createServiceAccount(namespace, 'app', { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/app' });
    }
  });
  afterAll(async () => {
    await coreV1().deleteNamespace({ name: namespace }).catch(() => undefined);
    await provider?.uninstall().catch(() => undefined);
    await provider?.proxy.close();
    await provider?.helm.cleanup();
  });
  return () => {
    if (provider === undefined) throw new Error('the node provider is installed in beforeAll: use it inside a hook or test');
    return provider;
  };
}

/**
 * Polls `probe` each second until it gives a value (a rejection counts as none); fails naming `what` after the
 * timeout, by default a bound generous for a node on 2 busy cores.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await sleep(1_000);
  }
}

/**
 * A Deployment `storm` of `replicas` test pods of `serviceAccountName` mounting `spc`, created at once; resolves when
 * every pod is Ready (each printed its files once).
 */
export async function startStorm(namespace: string, spc: string, replicas: number): Promise<void> {
  const template = appPod({ namespace, name: 'storm', serviceAccountName: 'app', spc, printOnce: true });
  const apps = kubeConfig().makeApiClient(AppsV1Api);
  const labels = { app: 'storm' };
  await apps.createNamespacedDeployment({
    namespace,
    body: { metadata: { name: 'storm' }, spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: template.spec } } },
  });
  await waitFor('every storm pod Ready', async () => {
    const d = await apps.readNamespacedDeployment({ namespace, name: 'storm' });
    return d.status?.readyReplicas === replicas ? true : undefined;
  }, 300_000);
}

export interface AppPodOptions {
  namespace: string;
  name: string;
  serviceAccountName: string;
  spc: string;
  /** Environment from a synced Kubernetes Secret: name → {secret, key}. */
  secretEnv?: Record<string, { secret: string; key: string }>;
  /** Print one frame, then sleep: for many pods at once on a small machine. */
  printOnce?: boolean;
  /**
   * Every file below the mount, in subdirectories too, by its path relative to it, each with its SHA-256 (`sha:`
   * lines) for binary contents: read through the atomic writer's `..data` link, so its timestamped copies and the
   * files of an earlier write never show.
   */
  walk?: boolean;
}

/**
 * A busybox pod with the CSI inline volume of `spc`, printing every file of it (and the env named in secretEnv)
 * each second, as `name=content` lines framed by `--- begin`/`--- end`: what a test reads through the API's logs
 * endpoint is what the pod sees.
 */
export function appPod(o: AppPodOptions): V1Pod {
  const envNames = Object.keys(o.secretEnv ?? {});
  const listing = o.walk
    ? [
        `(cd ${MOUNT_PATH}/..data/ && find . -type f | while read -r f; do`,
        '  echo "sha:${f#./}=$(sha256sum < "$f" | cut -d" " -f1)"; echo "file:${f#./}=$(cat "$f")"; done)',
      ]
    : [`for f in ${MOUNT_PATH}/*; do echo "file:\${f##*/}=$(cat "$f")"; done`];
  const frame = [
    'echo "--- begin"',
    ...listing,
    ...envNames.map((n) => `echo "env:${n}=$${n}"`),
    'echo "--- end"',
  ];
  const script = o.printOnce ? [...frame, 'exec sleep 3600'].join('\n') : ['while true; do', ...frame, 'sleep 1', 'done'].join('\n');
  return {
    metadata: { name: o.name, namespace: o.namespace, labels: { app: o.name } },
    spec: {
      serviceAccountName: o.serviceAccountName,
      hostNetwork: true,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: node.images.busybox,
          imagePullPolicy: 'Never',
          command: ['/bin/sh', '-c', script],
          env: Object.entries(o.secretEnv ?? {}).map(([name, ref]) => ({
            name,
            valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } },
          })),
          volumeMounts: [{ name: 'secrets', mountPath: MOUNT_PATH, readOnly: true }],
        },
      ],
      volumes: [{ name: 'secrets', csi: { driver: DRIVER_NAME, readOnly: true, volumeAttributes: { secretProviderClass: o.spc } } }],
    },
  };
}

/** What the pod printed last: its files and env, from the newest complete frame of its log. */
export interface PodView {
  files: Record<string, string>;
  env: Record<string, string>;
  /** SHA-256 (hex) of each file, for a pod with `walk`. */
  sha: Record<string, string>;
}

export async function podView(namespace: string, name: string): Promise<PodView | undefined> {
  const log = await coreV1().readNamespacedPodLog({ namespace, name, tailLines: 200 });
  const frames = log.split('--- begin\n').slice(1).filter((f) => f.includes('--- end'));
  const last = frames.at(-1);
  if (last === undefined) return undefined;
  const view: PodView = { files: {}, env: {}, sha: {} };
  for (const line of last.slice(0, last.indexOf('--- end')).split('\n').filter(Boolean)) {
    const match = /^(file|env|sha):([^=]+)=(.*)$/s.exec(line);
    if (match) view[match[1] === 'file' ? 'files' : (match[1] as 'env' | 'sha')][match[2] as string] = match[3] as string;
  }
  return view;
}

/** Polls the pod's view until `accept` holds, or throws with the last view and the pod's state. */
export async function waitForView(
  namespace: string,
  name: string,
  accept: (view: PodView) => boolean,
  timeoutMs = 120_000,
): Promise<PodView> {
  const deadline = Date.now() + timeoutMs;
  let last: PodView | undefined;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      last = await podView(namespace, name);
      if (last && accept(last)) return last;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(1_000);
  }
  const pod = await coreV1().readNamespacedPod({ namespace, name }).catch(() => undefined);
  const events = await coreV1().listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` }).catch(() => undefined);
  throw new Error(
    `pod ${namespace}/${name}: no accepted view after ${timeoutMs} ms; last view ${JSON.stringify(last)}` +
      `${lastError ? `, last error ${lastError}` : ''}; phase ${pod?.status?.phase}, ` +
      `events: ${(events?.items ?? []).map((e) => `${e.reason}: ${e.message}`).join(' | ')}`,
  );
}

/** Waits until the pod is Running with its container ready. */
export async function waitPodRunning(namespace: string, name: string, timeoutMs = 120_000): Promise<V1Pod> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pod = await coreV1().readNamespacedPod({ namespace, name });
    if (pod.status?.phase === 'Running' && pod.status.containerStatuses?.every((c) => c.ready)) return pod;
    if (Date.now() > deadline) {
      const events = await coreV1().listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
      throw new Error(
        `pod ${namespace}/${name} not Running after ${timeoutMs} ms (phase ${pod.status?.phase}); events: ` +
          events.items.map((e) => `${e.reason}: ${e.message}`).join(' | '),
      );
    }
    await sleep(500);
  }
}

/** Events of the object, oldest first, as `Reason: message`. */
export async function eventsOf(namespace: string, name: string): Promise<string[]> {
  const events = await coreV1().listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return events.items.map((e) => `${e.reason}: ${e.message}`);
}
