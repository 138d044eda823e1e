import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { mountRequest, type MountRequestFixture, type PodFixture } from '../fixtures/mountRequest.js';
import type { MountResponseMessage } from '../../src/server/proto.js';
import { startFaultProxy, type FaultProxy } from './faultProxy.js';
import { createServiceAccount, ensureNamespace, serviceAccountTokens } from './kube.js';
import { usePeers } from './peers.js';
import { startProvider, type RunningProvider } from './provider.js';
import { started as startedPeer } from './started.js';
import { IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE, ROLE_ANNOTATION } from '../fixtures/identity.js';

export { IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE, ROLE_ANNOTATION };

export interface PodIdentityFixture {
  pod: PodFixture;
  /** The tokens attribute the driver would send for this pod. */
  tokens: string;
  roleArn: string | undefined;
}

export interface MountEnvironment {
  readonly proxy: FaultProxy;
  readonly provider: RunningProvider;
  readonly namespace: string;
  /** A ServiceAccount (annotated with `roleArn` unless it is null) and a pod of it, with minted tokens. */
  pod(name: string, options?: { serviceAccount?: string; roleArn?: string | null }): Promise<PodIdentityFixture>;
  /** Mounts over the real socket as the driver would, for the given pod. */
  mount(
    who: PodIdentityFixture,
    request: Omit<MountRequestFixture, 'pod' | 'tokens'> & { tokens?: string },
  ): Promise<MountResponseMessage>;
}

export interface MountEnvironmentOptions {
  /** A function is called when the provider starts, e.g. to name ports that earlier hooks opened. */
  providerArgs?: string[] | (() => string[]);
  /** Env of the provider process besides the AWS endpoint, e.g. AWS_REGION; a function is called when it starts. */
  providerEnv?: Record<string, string> | (() => Record<string, string>);
  /** The provider's kubeconfig in place of the admin's, read when it starts (after earlier hooks wrote it). */
  kubeconfigPath?: () => string;
  /** Runs a built bundle (e.g. builtBundle()) in place of the sources, read when it starts. */
  bundle?: () => { entry: string; node: string };
  /** Regions whose STS the proxy serves on a listener of its own, given to the provider as --sts-endpoints. */
  stsRegions?: readonly string[];
}

/**
 * The provider process on a real Unix socket, moto behind our fault proxy, and a namespace in the real
 * apiserver: what every Mount integration test file starts from. Faults and records are cleared per test.
 */
export function useMountEnvironment(options: MountEnvironmentOptions = {}): MountEnvironment {
  const peers = usePeers();
  const namespace = `mount-${randomBytes(4).toString('hex')}`;
  let proxy: FaultProxy | undefined;
  let provider: RunningProvider | undefined;

  beforeAll(async () => {
    proxy = await startFaultProxy(peers.motoUrl, { ...(options.stsRegions && { stsRegions: options.stsRegions }) });
    await ensureNamespace(namespace);
    const args = typeof options.providerArgs === 'function' ? options.providerArgs() : (options.providerArgs ?? []);
    provider = await startProvider({
      kubeconfigPath: options.kubeconfigPath?.() ?? peers.kube.kubeconfigPath,
      args: options.stsRegions ? [...args, `--sts-endpoints=${proxy.stsEndpoints}`] : args,
      env: { AWS_ENDPOINT_URL: proxy.url, ...(typeof options.providerEnv === 'function' ? options.providerEnv() : options.providerEnv) },
      ...options.bundle?.(),
    });
  });
  afterAll(async () => {
    await provider?.stop();
    await proxy?.close();
  });
  beforeEach(async () => {
    proxy?.clearFaults();
    proxy?.clearQuotas();
    proxy?.clearRecords();
    for (const region of options.stsRegions ?? []) await proxy?.refuseSts(region, false);
  });

  const started = <T>(value: T | undefined, what: string): T => startedPeer(value, what, 'useMountEnvironment');

  return {
    get proxy() {
      return started(proxy, 'fault proxy');
    },
    get provider() {
      return started(provider, 'provider');
    },
    namespace,
    async pod(name, { serviceAccount = `${name}-sa`, roleArn } = {}) {
      const role = roleArn === null ? undefined : (roleArn ?? `arn:aws:iam::123456789012:role/${serviceAccount}`);
      await createServiceAccount(namespace, serviceAccount, role ? { [ROLE_ANNOTATION]: role } : {}).catch(
        (err: { code?: number }) => {
          if (err.code !== 409) throw err;
        },
      );
      const tokens = await serviceAccountTokens(namespace, serviceAccount, [IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE]);
      return { pod: { namespace, name, serviceAccountName: serviceAccount }, tokens, roleArn: role };
    },
    mount(who, request) {
      return started(provider, 'provider').client.mount(
        mountRequest({ ...request, pod: who.pod, tokens: request.tokens ?? who.tokens }),
      );
    },
  };
}
