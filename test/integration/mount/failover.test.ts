import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createSecret, putParameter } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import type { FaultRule } from '../../harness/faultProxy.js';

const PRIMARY = 'us-east-1';
const FAILOVER = 'us-west-2';
const env = useMountEnvironment();
const parameters = { region: PRIMARY, failoverRegion: FAILOVER };

async function seedBothRegions() {
  const primary = await createSecret(PRIMARY, 'db', 'primary-db');
  const failover = await createSecret(FAILOVER, 'db', 'failover-db');
  await putParameter(PRIMARY, 'flag', 'primary-flag');
  const failoverFlag = await putParameter(FAILOVER, 'flag', 'failover-flag');
  return { primary, failover, failoverFlag };
}

const objects = [
  { objectName: 'db', objectType: 'secretsmanager' },
  { objectName: 'flag', objectType: 'ssmparameter' },
];

function calls(region: string) {
  return env.proxy.records.filter((r) => r.region === region && r.service !== 'sts');
}

describe('failover to the second region', () => {
  it.each<[string, FaultRule]>([
    ['500', { region: PRIMARY, kind: 'status', status: 500 }],
    ['503', { region: PRIMARY, kind: 'status', status: 503 }],
    ['throttled', { region: PRIMARY, kind: 'throttle' }],
    ['connection dropped', { region: PRIMARY, kind: 'drop' }],
  ])('primary %s → the failover region value and its version', async (_name, fault) => {
    const { failover, failoverFlag } = await seedBothRegions();
    const who = await env.pod(`failover-${_name.replace(/\W/g, '')}`);
    env.proxy.setFault(fault);

    const response = await env.mount(who, { parameters, objects });

    const files = Object.fromEntries(response.files.map((f) => [f.path, f.contents.toString()]));
    expect(files).toEqual({ db: 'failover-db', flag: 'failover-flag' });
    expect(response.objectVersion).toEqual(
      expect.arrayContaining([
        { id: 'db', version: failover.versionId },
        { id: 'flag', version: String(failoverFlag) },
      ]),
    );
    expect(calls(FAILOVER).length).toBeGreaterThan(0);
  });

  it('a healthy primary is the only region called', async () => {
    const { primary } = await seedBothRegions();
    const who = await env.pod('healthy');

    const response = await env.mount(who, { parameters, objects });

    expect(response.files.find((f) => f.path === 'db')?.contents.toString()).toBe('primary-db');
    expect(response.objectVersion).toContainEqual({ id: 'db', version: primary.versionId });
    expect(calls(FAILOVER)).toHaveLength(0);
  });

  it('a secret missing in the primary fails at once, naming it, without calling the failover region', async () => {
    await createSecret(FAILOVER, 'only-in-failover', 'x');
    const who = await env.pod('notfound');

    const failure = env.mount(who, {
      parameters,
      objects: [{ objectName: 'only-in-failover', objectType: 'secretsmanager' }],
    });

    await expect(failure).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(failure).rejects.toThrow(/only-in-failover/);
    await expect(failure).rejects.toThrow(new RegExp(PRIMARY));
    expect(calls(FAILOVER)).toHaveLength(0);
  });

  it('both regions down: UNAVAILABLE naming each region and its cause', async () => {
    await seedBothRegions();
    const who = await env.pod('both-down');
    env.proxy.setFault({ region: PRIMARY, kind: 'status', status: 500 });
    env.proxy.setFault({ region: FAILOVER, kind: 'throttle' });

    const failure = env.mount(who, { parameters, objects });

    await expect(failure).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(failure).rejects.toThrow(new RegExp(`${PRIMARY}.*${FAILOVER}|${FAILOVER}.*${PRIMARY}`, 's'));
    await expect(failure).rejects.toThrow(/Throttl/);
  });
});
