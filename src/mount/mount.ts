import type { AwsClientPool } from '../aws/clients.js';
import type { BatchSupport } from '../aws/secretsManager.js';
import { fetchObjects } from '../aws/fetchObjects.js';
import type { IdentityResolver } from '../auth/identity.js';
import { parseMountRequest } from '../config/mountRequest.js';
import { checkArnRegions } from '../config/objects.js';
import type { MountConfig } from '../config/types.js';
import { renderFiles } from '../files/render.js';
import type { ClusterReader } from '../k8s/cluster.js';
import type { MountRequestMessage, MountResponseMessage } from '../server/proto.js';
import { resolveRegion } from './region.js';

export interface MountDependencies {
  cluster: ClusterReader;
  irsa: IdentityResolver;
  podIdentity: IdentityResolver;
  pool: AwsClientPool;
  batchSupport: BatchSupport;
  /** The provider's own AWS_REGION, used when the SecretProviderClass names none. */
  providerRegion: string | undefined;
  /** How many AWS calls one Mount may have in flight. */
  fetchConcurrency: number;
}

export interface MountOutcome {
  response: MountResponseMessage;
  config: MountConfig;
  region: string;
  failedOver: number;
}

/** The Mount, stage by stage as the spec reads: parse → region → identity → fetch → extract and render. */
export async function mount(
  request: MountRequestMessage,
  deps: MountDependencies,
  signal: AbortSignal,
): Promise<MountOutcome> {
  const config = parseMountRequest(request);
  const region = await resolveRegion(config, deps.providerRegion, deps.cluster);
  checkArnRegions(config, region);
  const resolver = config.usePodIdentity ? deps.podIdentity : deps.irsa;
  const identity = await resolver.resolve(config, region, signal);
  const fetched = await fetchObjects({
    objects: config.objects,
    region,
    failoverRegion: config.failoverRegion,
    identity,
    pool: deps.pool,
    batchSupport: deps.batchSupport,
    concurrency: deps.fetchConcurrency,
    signal,
  });
  const { files, versions } = renderFiles(fetched);
  return {
    response: { files, objectVersion: versions, error: null },
    config,
    region,
    failedOver: fetched.filter((object) => object.fromFailover).length,
  };
}
