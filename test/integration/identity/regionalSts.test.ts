import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { FaultRule, RecordedRequest } from '../../harness/faultProxy.js';
import { createSecret, putParameter, secretsManagerClient, stsClient } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import { mountFailure, providerCode } from '../operations/support.js';

const PRIMARY = 'us-east-1';
const FAILOVER = 'us-west-2';
const parameters = { region: PRIMARY, failoverRegion: FAILOVER };
const objects = [
  { objectName: 'db', objectType: 'secretsmanager' },
  { objectName: 'flag', objectType: 'ssmparameter' },
];

// Each region's STS has its own endpoint at the proxy, so an unsigned AssumeRoleWithWebIdentity is recorded (and
// faulted) by region. Two attempts of 500 ms: a 2 s delay exceeds both, well inside the 20 s deadline.
const env = useMountEnvironment({
  stsRegions: [PRIMARY, FAILOVER],
  providerArgs: ['--mount-timeout=20s', '--aws-request-timeout=500ms', '--aws-max-attempts=2'],
});

async function seedBothRegions(): Promise<void> {
  await createSecret(PRIMARY, 'db', 'primary-db');
  await createSecret(FAILOVER, 'db', 'failover-db');
  await putParameter(PRIMARY, 'flag', 'primary-flag');
  await putParameter(FAILOVER, 'flag', 'failover-flag');
}

const sts = (region: string, action = 'AssumeRoleWithWebIdentity') =>
  env.proxy.records.filter((r) => r.service === 'sts' && r.region === region && r.action === action);
const fetches = (region: string) => env.proxy.records.filter((r) => r.service !== 'sts' && r.region === region);
const filesOf = (files: { path: string; contents: Buffer }[]) =>
  Object.fromEntries(files.map((f) => [f.path, f.contents.toString()]));

/** The access key id in an STS answer moto gave: what the calls signed with those credentials carry. */
function issuedKey(record: RecordedRequest | undefined): string | undefined {
  return /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(record?.answer ?? '')?.[1];
}

/** A whole region down, STS included: each fault is set for every service of the region. */
const regionDown: [string, FaultRule | 'refused', number][] = [
  // [name, fault, STS attempts the primary records (two per call, as --aws-max-attempts says)]
  ['500', { region: PRIMARY, kind: 'status', status: 500 }, 2],
  ['throttled', { region: PRIMARY, kind: 'throttle' }, 2],
  ['slower than --aws-request-timeout', { region: PRIMARY, kind: 'delay', ms: 2000 }, 2],
  // STS refuses connections (its listener is closed, nothing is recorded); Secrets Manager and SSM drop them.
  ['refusing connections', 'refused', 0],
];

describe('a whole primary region down, STS included: credentials and values from the failover region', () => {
  it.each(regionDown)('primary %s → the failover values, through the failover region STS', async (name, fault, attempts) => {
    await seedBothRegions();
    const who = await env.pod(`region-${name.replace(/\W/g, '').slice(0, 20).toLowerCase()}`);
    if (fault === 'refused') {
      await env.proxy.refuseSts(PRIMARY, true);
      env.proxy.setFault({ region: PRIMARY, kind: 'drop' });
    } else {
      env.proxy.setFault(fault);
    }

    const response = await env.mount(who, { parameters, objects });

    expect(filesOf(response.files)).toEqual({ db: 'failover-db', flag: 'failover-flag' });
    expect(sts(PRIMARY)).toHaveLength(attempts);
    const failoverSts = sts(FAILOVER);
    expect(failoverSts.map((r) => r.status)).toEqual([200]);
    // The values were read with the credentials the failover region's STS issued.
    const reads = fetches(FAILOVER);
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads.map((r) => r.accessKeyId))).toEqual(new Set([issuedKey(failoverSts[0])]));
  });

  it("the primary's STS down alone → credentials from the failover STS, values from the healthy primary", async () => {
    await seedBothRegions();
    const who = await env.pod('sts-down-alone');
    env.proxy.setFault({ service: 'sts', region: PRIMARY, kind: 'status', status: 503 });

    const response = await env.mount(who, { parameters, objects });

    expect(filesOf(response.files)).toEqual({ db: 'primary-db', flag: 'primary-flag' });
    expect(sts(PRIMARY)).toHaveLength(2);
    expect(sts(FAILOVER).map((r) => r.status)).toEqual([200]);
    expect(fetches(FAILOVER)).toHaveLength(0);
    expect(new Set(fetches(PRIMARY).map((r) => r.accessKeyId))).toEqual(new Set([issuedKey(sts(FAILOVER)[0])]));
  });

  it('the credentials are cached by identity, not by region: the next Mount calls no STS at all', async () => {
    await seedBothRegions();
    const who = await env.pod('cached-after-failover');
    env.proxy.setFault({ service: 'sts', region: PRIMARY, kind: 'status', status: 500 });
    await env.mount(who, { parameters, objects });
    env.proxy.clearFaults();
    env.proxy.clearRecords();

    const again = await env.mount(who, { parameters, objects });

    expect(filesOf(again.files)).toEqual({ db: 'primary-db', flag: 'primary-flag' });
    expect(env.proxy.records.filter((r) => r.service === 'sts')).toHaveLength(0);
  });

  it("both regions' STS down → UNAVAILABLE CredentialsUnavailable naming each region and its cause; nothing fetched", async () => {
    await seedBothRegions();
    const who = await env.pod('sts-both-down');
    env.proxy.setFault({ service: 'sts', region: PRIMARY, kind: 'status', status: 500 });
    env.proxy.setFault({ service: 'sts', region: FAILOVER, kind: 'throttle' });

    const error = await mountFailure(env.mount(who, { parameters, objects }));

    expect(error.code).toBe(status.UNAVAILABLE);
    expect(providerCode(error)).toBe('CredentialsUnavailable');
    expect(error.details).toMatch(new RegExp(`in ${PRIMARY} failed .*InternalFailure.* \\| .*in ${FAILOVER} failed .*Throttling`));
    expect(sts(PRIMARY)).toHaveLength(2);
    expect(sts(FAILOVER)).toHaveLength(2);
    expect(env.proxy.records.filter((r) => r.service !== 'sts')).toHaveLength(0);
  });

  it('STS refusing the token in the primary is the answer: no failover STS call', async () => {
    await seedBothRegions();
    const who = await env.pod('sts-refuses');
    env.proxy.setFault({ service: 'sts', region: PRIMARY, kind: 'refuseToken' });

    const error = await mountFailure(env.mount(who, { parameters, objects }));

    expect(error.code).toBe(status.PERMISSION_DENIED);
    expect(providerCode(error)).toBe('CredentialsRefused');
    expect(sts(PRIMARY)).toHaveLength(1);
    expect(sts(FAILOVER)).toHaveLength(0);
  });

  it('without failoverRegion, a primary STS fault fails the Mount and asks no other region', async () => {
    await seedBothRegions();
    const who = await env.pod('sts-no-failover');
    env.proxy.setFault({ service: 'sts', region: PRIMARY, kind: 'status', status: 500 });

    const error = await mountFailure(env.mount(who, { parameters: { region: PRIMARY }, objects }));

    expect(providerCode(error)).toBe('CredentialsUnavailable');
    expect(error.details).toContain(`AssumeRoleWithWebIdentity in ${PRIMARY} failed`);
    expect(sts(FAILOVER)).toHaveLength(0);
  });
});

/** The account that holds the chained role's secret; the pods' own roles are in 123456789012. */
const TARGET_ACCOUNT = '999988887777';
const CROSS_ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/cross-account-reader`;

/** moto keeps one state per account, picked by the signing key: only the chained credentials find this secret. */
async function seedInTargetAccount(region: string, value: string): Promise<void> {
  const seeder = stsClient(region);
  const { Credentials: c } = await seeder.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${TARGET_ACCOUNT}:role/seeder`, RoleSessionName: 'seed' }),
  );
  const client = secretsManagerClient(region, {
    credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken },
  });
  await client.send(new CreateSecretCommand({ Name: 'shared/db', SecretString: value }));
  client.destroy();
  seeder.destroy();
}

describe('assumeRoleArn with the primary region down: the chained AssumeRole fails over too', () => {
  const chained = { ...parameters, assumeRoleArn: CROSS_ROLE };
  const sharedObjects = [{ objectName: 'shared/db', objectType: 'secretsmanager' }];

  it('whole primary region down → both STS calls and the read in the failover region', async () => {
    await seedInTargetAccount(PRIMARY, 'primary-shared');
    await seedInTargetAccount(FAILOVER, 'failover-shared');
    const who = await env.pod('chain-region-down');
    env.proxy.setFault({ region: PRIMARY, kind: 'status', status: 500 });

    const response = await env.mount(who, { parameters: chained, objects: sharedObjects });

    expect(response.files[0]?.contents.toString()).toBe('failover-shared');
    expect(sts(PRIMARY)).toHaveLength(2);
    // The base credentials signed the chained call in the failover region, and the chained ones read the secret.
    const [webIdentity] = sts(FAILOVER);
    const assume = sts(FAILOVER, 'AssumeRole');
    expect(assume.map((r) => [r.status, r.roleArn, r.accessKeyId])).toEqual([[200, CROSS_ROLE, issuedKey(webIdentity)]]);
    expect(new Set(fetches(FAILOVER).map((r) => r.accessKeyId))).toEqual(new Set([issuedKey(assume[0])]));
  });

  it("only the primary's AssumeRole failing → the chained credentials from the failover STS, the value from the primary", async () => {
    await seedInTargetAccount(PRIMARY, 'primary-shared');
    const who = await env.pod('chain-assume-down');
    env.proxy.setFault({ service: 'sts', action: 'AssumeRole', region: PRIMARY, kind: 'throttle' });

    const response = await env.mount(who, { parameters: chained, objects: sharedObjects });

    expect(response.files[0]?.contents.toString()).toBe('primary-shared');
    expect(sts(PRIMARY).map((r) => r.status)).toEqual([200]);
    expect(sts(PRIMARY, 'AssumeRole')).toHaveLength(2);
    expect(sts(FAILOVER, 'AssumeRole').map((r) => r.status)).toEqual([200]);
    expect(sts(FAILOVER)).toHaveLength(0);
  });

  it("both regions' AssumeRole down → CredentialsUnavailable naming each region and its cause", async () => {
    const who = await env.pod('chain-both-down');
    env.proxy.setFault({ service: 'sts', action: 'AssumeRole', region: PRIMARY, kind: 'status', status: 503 });
    env.proxy.setFault({ service: 'sts', action: 'AssumeRole', region: FAILOVER, kind: 'delay', ms: 2000 });

    const error = await mountFailure(env.mount(who, { parameters: chained, objects: sharedObjects }));

    expect(error.code).toBe(status.UNAVAILABLE);
    expect(providerCode(error)).toBe('CredentialsUnavailable');
    expect(error.details).toMatch(
      new RegExp(`AssumeRole in ${PRIMARY} failed .*ServiceUnavailable.* \\| .*AssumeRole in ${FAILOVER} failed .*TimeoutError`),
    );
    expect(sts(PRIMARY, 'AssumeRole')).toHaveLength(2);
    expect(sts(FAILOVER, 'AssumeRole')).toHaveLength(2);
    expect(env.proxy.records.filter((r) => r.service !== 'sts')).toHaveLength(0);
  });
});
