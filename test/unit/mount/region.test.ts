import { describe, expect, it } from 'vitest';
import type { ClusterReader } from '../../../src/k8s/cluster.js';
import { resolveRegion } from '../../../src/mount/region.js';
import { ProviderError } from '../../../src/errors.js';
import { parse } from '../config/request.js';

const OBJECTS = '- objectName: s\n  objectType: secretsmanager\n';

/** The node's label, as the API server would answer; these tests never reach a real one. */
const nodeLabelled = (region: string | undefined): ClusterReader => ({
  serviceAccountRoleArn: () => Promise.reject(new Error('not asked here')),
  podNodeRegion: () => Promise.resolve(region),
});

async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('resolveRegion: a region from the provider\'s setup must be one the SDK knows', () => {
  it("names AWS_REGION and the Helm value when the provider's own region is unknown", async () => {
    const error = await refusal(resolveRegion(parse({ objects: OBJECTS }), 'zz-1', nodeLabelled(undefined)));
    expect(error.code).toBe('RegionNotFound');
    expect(error.message).toContain(`the provider's AWS_REGION (Helm value awsRegion) "zz-1" is not an AWS region known`);
  });

  it("names the node's label when that is where the unknown region came from", async () => {
    const error = await refusal(resolveRegion(parse({ objects: OBJECTS }), undefined, nodeLabelled('moon-1')));
    expect(error.code).toBe('RegionNotFound');
    expect(error.message).toContain('topology.kubernetes.io/region label of the pod\'s node "moon-1"');
  });

  it('takes a known region from either', async () => {
    await expect(resolveRegion(parse({ objects: OBJECTS }), 'eu-west-1', nodeLabelled(undefined))).resolves.toBe('eu-west-1');
    await expect(resolveRegion(parse({ objects: OBJECTS }), undefined, nodeLabelled('ap-south-1'))).resolves.toBe('ap-south-1');
  });
});
