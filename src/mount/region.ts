import { isKnownRegion } from '../config/regions.js';
import { unknownRegion } from '../config/parameters.js';
import type { MountConfig } from '../config/types.js';
import { invalidSpc, ProviderError } from '../errors.js';
import type { ClusterReader } from '../k8s/cluster.js';
import { REGION_LABEL } from '../k8s/cluster.js';

/** The region of a Mount, in ASCP's order: the `region` parameter, the provider's AWS_REGION, the pod's node. */
export async function resolveRegion(
  config: MountConfig,
  providerRegion: string | undefined,
  cluster: ClusterReader,
): Promise<string> {
  const region = config.region ?? providerRegion ?? (await nodeRegion(config, cluster));
  // The SecretProviderClass's own region was checked when it was parsed; these two come from the provider's setup.
  if (config.region === undefined && !isKnownRegion(region)) {
    const where = providerRegion !== undefined ? "the provider's AWS_REGION (Helm value awsRegion)" : `the ${REGION_LABEL} label of the pod's node`;
    throw new ProviderError('RegionNotFound', unknownRegion(where, region));
  }
  if (config.failoverRegions.includes(region)) {
    throw invalidSpc(
      `failoverRegion "${config.failoverRegions.join(',')}" lists the mount's region ${region}: set failoverRegion ` +
        `to other regions, or remove it`,
    );
  }
  return region;
}

async function nodeRegion(config: MountConfig, cluster: ClusterReader): Promise<string> {
  const { namespace, name, uid } = config.pod;
  const region = await cluster.podNodeRegion(namespace, name, uid);
  if (region) return region;
  throw new ProviderError(
    'RegionNotFound',
    `no region for pod ${namespace}/${name}: set the "region" parameter in the SecretProviderClass, or AWS_REGION ` +
      `on the provider (Helm value awsRegion), or label the pod's node with ${REGION_LABEL}`,
  );
}
