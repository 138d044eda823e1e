import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { Fault } from '../../harness/faultProxy.js';
import { createSecret, putParameter } from '../../harness/moto.js';
import { FAILOVER, PRIMARY, parameter, rejection, secret, useAwsTestBed } from './support.js';

const bed = useAwsTestBed();

/** The same names in both regions with different values, as a replica that lags or a separate copy would be. */
async function seedBothRegions() {
  const primary = await createSecret(PRIMARY, 'app/db', 'primary-value');
  const failover = await createSecret(FAILOVER, 'app/db', 'failover-value');
  await putParameter(PRIMARY, '/app/flag', 'primary-flag');
  await putParameter(FAILOVER, '/app/flag', 'failover-flag-1');
  await putParameter(FAILOVER, '/app/flag', 'failover-flag-2', 'String', true);
  return { primary, failover };
}

const objects = () => [
  secret(0, { objectName: 'app/db' }, { objectName: 'app/db' }),
  parameter(1, { objectName: '/app/flag' }, { objectName: '/app/flag' }),
];

describe('failover', () => {
  it.each<[string, Fault]>([
    ['a 500', { kind: 'status', status: 500 }],
    ['a 503', { kind: 'status', status: 503 }],
    ['throttling', { kind: 'throttle' }],
    ['a dropped connection', { kind: 'drop' }],
    ['a truncated answer', { kind: 'truncate' }],
  ])('reads from the failover region when the primary answers %s after the SDK retries', async (_name, fault) => {
    const { failover } = await seedBothRegions();
    bed.proxy.setFault({ ...fault, region: PRIMARY });

    const fetched = await bed.fetch(objects(), { failoverRegions: [FAILOVER] });

    expect(fetched.map((f) => [f.value.toString(), f.version, f.region, f.fromFailover])).toEqual([
      ['failover-value', failover.versionId, FAILOVER, true],
      ['failover-flag-2', '2', FAILOVER, true],
    ]);
    // The SDK retried each primary call (3 attempts) before we moved on; a throttled batch was first sent again as
    // GetSecretValue (its own quota), and only that call throttled too made the region count as failing.
    const primaryCalls = fault.kind === 'throttle' ? 3 * 3 : 2 * 3;
    expect(bed.calls({ region: PRIMARY })).toHaveLength(primaryCalls);
    expect(bed.calls({ region: FAILOVER })).toHaveLength(2);
  });

  it('fails over only the objects whose call failed, using their failover object', async () => {
    await seedBothRegions();
    await createSecret(FAILOVER, 'app/db-replica', 'replica-value');
    bed.proxy.setFault({ kind: 'status', status: 500, region: PRIMARY, action: 'BatchGetSecretValue' });

    const fetched = await bed.fetch(
      [secret(0, { objectName: 'app/db' }, { objectName: 'app/db-replica' }), ...objects().slice(1)],
      { failoverRegions: [FAILOVER] },
    );

    expect(fetched.map((f) => [f.value.toString(), f.region])).toEqual([
      ['replica-value', FAILOVER],
      ['primary-flag', PRIMARY],
    ]);
    expect(bed.calls({ region: FAILOVER }).map((c) => [c.action, c.secretIds])).toEqual([
      ['BatchGetSecretValue', ['app/db-replica']],
    ]);
  });

  it('never calls the failover region while the primary is healthy', async () => {
    await seedBothRegions();

    const fetched = await bed.fetch(objects(), { failoverRegions: [FAILOVER] });

    expect(fetched.map((f) => [f.value.toString(), f.region, f.fromFailover])).toEqual([
      ['primary-value', PRIMARY, false],
      ['primary-flag', PRIMARY, false],
    ]);
    expect(bed.calls({ region: FAILOVER })).toHaveLength(0);
  });

  it("fails at once with the primary's client error and never asks the failover region", async () => {
    await seedBothRegions();
    await createSecret(FAILOVER, 'app/only-in-failover', 'x');

    const error = await rejection(
      bed.fetch(
        [...objects(), secret(2, { objectName: 'app/only-in-failover' }, { objectName: 'app/only-in-failover' })],
        { failoverRegions: [FAILOVER] },
      ),
    );

    expect(error).toMatchObject({ grpcStatus: status.NOT_FOUND, code: 'ObjectNotFound' });
    expect(error.message).toMatch(/^objects\[2\] "app\/only-in-failover": .* in us-east-1 failed with ResourceNotFoundException/);
    expect(bed.calls({ region: FAILOVER })).toHaveLength(0);
  });

  it('names each region and its cause when both are down', async () => {
    await seedBothRegions();
    bed.proxy.setFault({ kind: 'status', status: 503, region: PRIMARY });
    bed.proxy.setFault({ kind: 'throttle', region: FAILOVER });

    const error = await rejection(bed.fetch(objects().slice(0, 1), { failoverRegions: [FAILOVER] }));

    expect(error).toMatchObject({ grpcStatus: status.UNAVAILABLE, code: 'RegionUnavailable' });
    expect(error.message).toMatch(
      /^both regions failed\. Primary: objects\[0\] "app\/db": Secrets Manager BatchGetSecretValue in us-east-1 failed with ServiceUnavailable .*after 3 attempts.*\. Failover: objects\[0\] "app\/db": Secrets Manager GetSecretValue in us-west-2 failed with ThrottlingException .*after 3 attempts/,
    );
  });

  it('reports the primary region as unavailable when no failover region is set', async () => {
    await seedBothRegions();
    bed.proxy.setFault({ kind: 'drop', region: PRIMARY, action: 'GetParameters' });

    const error = await rejection(bed.fetch(objects()));

    expect(error).toMatchObject({ grpcStatus: status.UNAVAILABLE, code: 'RegionUnavailable' });
    expect(error.message).toMatch(/^objects\[1\] "\/app\/flag": SSM Parameter Store GetParameters in us-east-1 failed with/);
    expect(bed.calls({ region: FAILOVER })).toHaveLength(0);
  });

  it("stops at the Mount's deadline without failing over", async () => {
    await seedBothRegions();
    bed.proxy.setFault({ kind: 'delay', ms: 3000, region: PRIMARY });

    const error = await rejection(
      bed.fetch(objects(), { failoverRegions: [FAILOVER], signal: AbortSignal.timeout(300) }),
    );

    expect(error).toMatchObject({ grpcStatus: status.DEADLINE_EXCEEDED, code: 'DeadlineExceeded' });
    expect(bed.calls({ region: FAILOVER })).toHaveLength(0);
  });
});
