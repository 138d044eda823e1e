import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createSecret, putParameter } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import type { FaultRule, RecordedRequest } from '../../harness/faultProxy.js';

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

describe('failoverRegion as an ordered list of regions', () => {
  const THIRD = 'eu-west-1';
  // Each region's STS on its own listener, so a whole region (STS included) can be taken down. Two attempts a call.
  const listEnv = useMountEnvironment({
    stsRegions: [PRIMARY, FAILOVER, THIRD],
    providerArgs: ['--aws-max-attempts=2'],
  });
  const listed = { region: PRIMARY, failoverRegion: `${FAILOVER}, ${THIRD}` };
  const reads = (region: string) => listEnv.proxy.records.filter((r) => r.region === region && r.service !== 'sts');
  const stsCalls = (region: string) => listEnv.proxy.records.filter((r) => r.region === region && r.service === 'sts');

  async function seedThreeRegions() {
    for (const region of [PRIMARY, FAILOVER, THIRD]) {
      await createSecret(region, 'db', `${region}-db`);
      await putParameter(region, 'flag', `${region}-flag`);
    }
  }

  it('primary and first failover region down, STS included → the second failover region serves, each region asked in order', async () => {
    await seedThreeRegions();
    const who = await listEnv.pod('list-two-down');
    listEnv.proxy.setFault({ region: PRIMARY, kind: 'status', status: 500 });
    listEnv.proxy.setFault({ region: FAILOVER, kind: 'throttle' });

    const response = await listEnv.mount(who, { parameters: listed, objects });

    const files = Object.fromEntries(response.files.map((f) => [f.path, f.contents.toString()]));
    expect(files).toEqual({ db: `${THIRD}-db`, flag: `${THIRD}-flag` });
    // STS: two attempts in each failed region, then one answer from the third.
    expect(stsCalls(PRIMARY).map((r) => r.status)).toEqual([500, 500]);
    expect(stsCalls(FAILOVER).map((r) => r.status)).toEqual([400, 400]);
    expect(stsCalls(THIRD).map((r) => r.status)).toEqual([200]);
    // Secrets Manager and SSM: one call each per attempt in the failed regions, one each in the third. Where the
    // batch is throttled, its secrets go out as GetSecretValue before the region counts as down (throttling alone
    // is no regional fault unless both Secrets Manager APIs throttle).
    const actions = (region: string) => reads(region).map((r) => r.action).sort();
    expect(actions(PRIMARY)).toEqual(['BatchGetSecretValue', 'BatchGetSecretValue', 'GetParameters', 'GetParameters']);
    expect(actions(FAILOVER)).toEqual([
      'BatchGetSecretValue',
      'BatchGetSecretValue',
      'GetParameters',
      'GetParameters',
      'GetSecretValue',
      'GetSecretValue',
    ]);
    expect(reads(THIRD).map((r) => r.status)).toEqual([200, 200]);
    // In order: STS region by region, then the reads region by region, never a region before the one listed ahead.
    const rank = (records: RecordedRequest[]) => records.map((r) => [PRIMARY, FAILOVER, THIRD].indexOf(r.region ?? ''));
    for (const calls of [listEnv.proxy.records.filter((r) => r.service === 'sts'), listEnv.proxy.records.filter((r) => r.service !== 'sts')]) {
      expect(rank(calls)).toEqual([...rank(calls)].sort());
    }
  });

  it('a healthy first failover region → the second is never called', async () => {
    await seedThreeRegions();
    const who = await listEnv.pod('list-first-serves');
    listEnv.proxy.setFault({ region: PRIMARY, service: 'secretsmanager', kind: 'status', status: 503 });

    const response = await listEnv.mount(who, { parameters: listed, objects });

    const files = Object.fromEntries(response.files.map((f) => [f.path, f.contents.toString()]));
    expect(files).toEqual({ db: `${FAILOVER}-db`, flag: `${PRIMARY}-flag` });
    expect(reads(FAILOVER).map((r) => [r.service, r.status])).toEqual([['secretsmanager', 200]]);
    expect(listEnv.proxy.records.filter((r) => r.region === THIRD)).toHaveLength(0);
  });

  it('every region down → UNAVAILABLE naming each region in order with its cause', async () => {
    await seedThreeRegions();
    const who = await listEnv.pod('list-all-down');
    listEnv.proxy.setFault({ region: PRIMARY, service: 'ssm', kind: 'status', status: 500 });
    listEnv.proxy.setFault({ region: FAILOVER, service: 'ssm', kind: 'throttle' });
    listEnv.proxy.setFault({ region: THIRD, service: 'ssm', kind: 'status', status: 503 });

    const failure = listEnv.mount(who, { parameters: listed, objects });

    await expect(failure).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(failure).rejects.toThrow(
      new RegExp(`all 3 regions failed\\. Primary: .*${PRIMARY}.*InternalFailure.*Failover 1: .*${FAILOVER}.*Throttling.*Failover 2: .*${THIRD}.*ServiceUnavailable`),
    );
    expect(reads(THIRD).filter((r) => r.service === 'ssm')).toHaveLength(2);
  });

  it('a client error in the first failover region ends the Mount: the second is not asked', async () => {
    await createSecret(PRIMARY, 'db', 'primary-db');
    await createSecret(THIRD, 'db', 'third-db');
    const who = await listEnv.pod('list-not-found');
    listEnv.proxy.setFault({ region: PRIMARY, kind: 'status', status: 500 });

    const failure = listEnv.mount(who, { parameters: listed, objects: objects.slice(0, 1) });

    await expect(failure).rejects.toThrow(new RegExp(`${FAILOVER}.*ResourceNotFoundException`));
    expect(listEnv.proxy.records.filter((r) => r.region === THIRD)).toHaveLength(0);
  });

  it('a failoverObject is what every failover region serves', async () => {
    await createSecret(PRIMARY, 'db', 'primary-db');
    await createSecret(THIRD, 'db-standby', 'third-standby');
    const who = await listEnv.pod('list-failover-object');
    listEnv.proxy.setFault({ region: PRIMARY, kind: 'status', status: 500 });
    listEnv.proxy.setFault({ region: FAILOVER, kind: 'status', status: 502 });

    const response = await listEnv.mount(who, {
      parameters: listed,
      objects: [{ objectName: 'db', objectType: 'secretsmanager', objectAlias: 'db', failoverObject: { objectName: 'db-standby' } }],
    });

    expect(response.files.map((f) => [f.path, f.contents.toString()])).toEqual([['db', 'third-standby']]);
    expect(reads(FAILOVER).flatMap((r) => r.secretIds)).toEqual(['db-standby', 'db-standby']);
    expect(reads(THIRD).flatMap((r) => r.secretIds)).toEqual(['db-standby']);
  });
});
