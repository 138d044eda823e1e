import { afterAll, afterEach, beforeAll } from 'vitest';
import { AwsClientPool } from '../../../src/aws/clients.js';
import { fetchObjects, type FetchObjectsInput } from '../../../src/aws/fetchObjects.js';
import { BatchSupportStore } from '../../../src/aws/secretsManager.js';
import { RegionThrottling } from '../../../src/aws/throttling.js';
import type { AwsIdentity } from '../../../src/aws/types.js';
import type { ObjectRef, ObjectSpec, ObjectType } from '../../../src/config/types.js';
import { startFaultProxy, type FaultProxy, type RecordedRequest } from '../../harness/faultProxy.js';
import { usePeers } from '../../harness/peers.js';

export const PRIMARY = 'us-east-1';
export const FAILOVER = 'us-west-2';
export const identity: AwsIdentity = {
  key: 'team-a/app/irsa/arn:aws:iam::123456789012:role/app',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' },
};

function spec(index: number, objectType: ObjectType, primary: ObjectRef, failover?: ObjectRef): ObjectSpec {
  return { index, objectType, primary, failover, fileName: `file-${index}`, mode: 0o644, jmesPath: [] };
}

export const secret = (index: number, primary: ObjectRef, failover?: ObjectRef) =>
  spec(index, 'secretsmanager', primary, failover);
export const parameter = (index: number, primary: ObjectRef, failover?: ObjectRef) =>
  spec(index, 'ssmparameter', primary, failover);

export interface AwsTestBed {
  proxy: FaultProxy;
  pool: AwsClientPool;
  batchSupport: BatchSupportStore;
  /** Which regions' BatchGetSecretValue was throttled: new for each test. */
  throttling: RegionThrottling;
  fetch(objects: ObjectSpec[], extra?: Partial<FetchObjectsInput>): ReturnType<typeof fetchObjects>;
  /** Calls recorded by the proxy, optionally of one action and/or region. */
  calls(filter?: { action?: string; region?: string }): RecordedRequest[];
}

/**
 * The provider's AWS side against moto through the fault proxy. The endpoint env is set before any client
 * exists, so no call can leave loopback; credentials are always explicit.
 */
export function useAwsTestBed(): AwsTestBed {
  const saved = { ...process.env };
  const bed = {} as AwsTestBed;
  beforeAll(async () => {
    bed.proxy = await startFaultProxy(usePeers().motoUrl);
    process.env.AWS_ENDPOINT_URL = bed.proxy.url;
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    delete process.env.AWS_ENDPOINT_URL_SSM;
    delete process.env.AWS_USE_FIPS_ENDPOINT;
    bed.pool = new AwsClientPool({ requestTimeoutMs: 5000, connectionTimeoutMs: 1000 });
  });
  afterEach(() => {
    bed.proxy.clearFaults();
    bed.proxy.clearRecords();
    bed.batchSupport = new BatchSupportStore();
    bed.throttling = newThrottling();
  });
  afterAll(async () => {
    bed.pool?.destroy();
    await bed.proxy?.close();
    process.env = saved;
  });
  bed.batchSupport = new BatchSupportStore();
  bed.throttling = newThrottling();
  bed.fetch = (objects, extra = {}) =>
    fetchObjects({
      objects,
      region: PRIMARY,
      identity,
      pool: bed.pool,
      batchSupport: bed.batchSupport,
      batchThrottling: bed.throttling,
      ...extra,
    });
  bed.calls = (filter = {}) =>
    bed.proxy.records.filter(
      (r) =>
        (filter.action === undefined || r.action === filter.action) &&
        (filter.region === undefined || r.region === filter.region),
    );
  return bed;
}

const newThrottling = () => new RegionThrottling({ batchCooldownMs: 60_000, pressureMs: 60_000, republishBackoffMs: 60_000 });

/** The rejection of a promise that must fail. */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the fetch to fail');
}
