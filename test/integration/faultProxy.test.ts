import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../harness/faultProxy.js';
import {
  createSecret,
  putParameter,
  secretsManagerClient,
  ssmClient,
  stsClient,
  testCredentials,
  type ClientOptions,
} from '../harness/moto.js';
import { usePeers } from '../harness/peers.js';

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(usePeers().motoUrl);
});
afterAll(() => proxy.close());
afterEach(() => {
  proxy.clearFaults();
  proxy.clearQuotas();
  proxy.clearRecords();
});

// One attempt per send: each fault shows up as the SDK's own failure, not hidden by its retries.
const viaProxy = (extra: ClientOptions = {}): ClientOptions => ({ endpoint: proxy.url, maxAttempts: 1, ...extra });

async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('fault proxy in front of moto', () => {
  it('forwards calls untouched and records service, action, region, access key and ids', async () => {
    const { arn } = await createSecret('eu-west-1', 'app/db', 'hunter2');
    const client = secretsManagerClient('eu-west-1', viaProxy());
    const got = await client.send(new GetSecretValueCommand({ SecretId: 'app/db' }));
    expect(got.SecretString).toBe('hunter2');
    expect(got.ARN).toBe(arn);
    const batch = await client.send(new BatchGetSecretValueCommand({ SecretIdList: ['app/db', 'missing'] }));
    expect(batch.SecretValues?.map((v) => v.Name)).toEqual(['app/db']);

    expect(proxy.records).toMatchObject([
      {
        service: 'secretsmanager',
        action: 'GetSecretValue',
        region: 'eu-west-1',
        accessKeyId: testCredentials.accessKeyId,
        secretIds: ['app/db'],
        status: 200,
        fault: undefined,
      },
      { action: 'BatchGetSecretValue', secretIds: ['app/db', 'missing'], body: { SecretIdList: ['app/db', 'missing'] } },
    ]);
  });

  it('injects a 500 in one region while another region is still served', async () => {
    await createSecret('us-east-1', 's', 'east');
    await createSecret('us-west-2', 's', 'west');
    proxy.setFault({ region: 'us-east-1', kind: 'status', status: 500 });

    const east = await failure(secretsManagerClient('us-east-1', viaProxy()).send(new GetSecretValueCommand({ SecretId: 's' })));
    expect(east.name).toBe('InternalFailure');
    expect(east.$metadata?.httpStatusCode).toBe(500);
    const west = await secretsManagerClient('us-west-2', viaProxy()).send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(west.SecretString).toBe('west');
    expect(proxy.records.map((r) => [r.region, r.status, r.fault])).toEqual([
      ['us-east-1', 500, 'status'],
      ['us-west-2', 200, undefined],
    ]);
  });

  it('answers 503 as ServiceUnavailable and stops after `times` faults', async () => {
    await createSecret('us-east-1', 's', 'v');
    proxy.setFault({ action: 'GetSecretValue', kind: 'status', status: 503, times: 1 });
    const client = secretsManagerClient('us-east-1', viaProxy());
    const err = await failure(client.send(new GetSecretValueCommand({ SecretId: 's' })));
    expect(err.name).toBe('ServiceUnavailable');
    expect((await client.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v');
  });

  it('matches on action: a fault on GetParameters leaves Secrets Manager alone', async () => {
    await createSecret('us-east-1', 's', 'v');
    await putParameter('us-east-1', '/app/p', 'pv');
    proxy.setFault({ service: 'ssm', action: 'GetParameters', kind: 'status', status: 500 });
    const ssm = ssmClient('us-east-1', viaProxy());
    const err = await failure(ssm.send(new GetParametersCommand({ Names: ['/app/p', '/app/q'] })));
    expect(err.$metadata?.httpStatusCode).toBe(500);
    const sm = secretsManagerClient('us-east-1', viaProxy());
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v');
    expect(proxy.records[0]).toMatchObject({ service: 'ssm', action: 'GetParameters', names: ['/app/p', '/app/q'] });
  });

  it('throttles with ThrottlingException, which the SDK retries', async () => {
    await putParameter('us-east-1', '/app/p', 'pv');
    proxy.setFault({ kind: 'throttle' });
    const err = await failure(ssmClient('us-east-1', viaProxy()).send(new GetParametersCommand({ Names: ['/app/p'] })));
    expect(err.name).toBe('ThrottlingException');
    expect(err.$metadata?.httpStatusCode).toBe(400);

    proxy.clearFaults();
    proxy.clearRecords();
    proxy.setFault({ kind: 'throttle', times: 1 });
    const retried = ssmClient('us-east-1', viaProxy({ maxAttempts: 2 }));
    const out = await retried.send(new GetParametersCommand({ Names: ['/app/p'] }));
    expect(out.Parameters?.[0]?.Value).toBe('pv');
    expect(proxy.records.map((r) => r.fault)).toEqual(['throttle', undefined]);
  });

  it('enforces a quota per action as a token bucket, answering ThrottlingException once it is spent', async () => {
    await createSecret('us-east-1', 'quota', 'v');
    await putParameter('us-east-1', '/quota/p', 'pv');
    proxy.setQuota({ service: 'secretsmanager', action: 'GetSecretValue', perSecond: 0.001, burst: 2 });
    const sm = secretsManagerClient('us-east-1', viaProxy());
    const get = () => sm.send(new GetSecretValueCommand({ SecretId: 'quota' }));
    expect((await get()).SecretString).toBe('v');
    expect((await get()).SecretString).toBe('v');
    const err = await failure(get());
    expect(err.name).toBe('ThrottlingException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    // Another action has a quota of its own (none here).
    const ssm = ssmClient('us-east-1', viaProxy());
    expect((await ssm.send(new GetParametersCommand({ Names: ['/quota/p'] }))).Parameters?.[0]?.Value).toBe('pv');
    expect(proxy.records.map((r) => [r.action, r.fault])).toEqual([
      ['GetSecretValue', undefined],
      ['GetSecretValue', undefined],
      ['GetSecretValue', 'quota'],
      ['GetParameters', undefined],
    ]);
    proxy.clearQuotas();
    expect((await get()).SecretString).toBe('v');
  });

  it('delays and then forwards', async () => {
    await createSecret('us-east-1', 's', 'v');
    proxy.setFault({ kind: 'delay', ms: 400 });
    const started = Date.now();
    const out = await secretsManagerClient('us-east-1', viaProxy()).send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(out.SecretString).toBe('v');
    expect(proxy.records[0]).toMatchObject({ fault: 'delay', status: 200 });
  });

  it('never forwards a delayed call whose client gave up, even after the delay', async () => {
    proxy.setFault({ kind: 'delay', ms: 300 });
    const giveUp = new AbortController();
    const abandoned = secretsManagerClient('us-east-1', viaProxy()).send(
      new CreateSecretCommand({ Name: 'late', SecretString: 'v' }),
      { abortSignal: giveUp.signal },
    );
    // The client gives up once the proxy holds its call, inside the delay.
    while (proxy.records.length === 0) await sleep(5);
    giveUp.abort();
    expect((await failure(abandoned)).name).toBe('AbortError');
    await sleep(600);

    const listed = await secretsManagerClient('us-east-1').send(new ListSecretsCommand({}));
    expect(listed.SecretList?.map((s) => s.Name)).not.toContain('late');
    expect(proxy.records).toMatchObject([{ action: 'CreateSecret', fault: 'delay', status: undefined }]);
  });

  it('drops the connection: the SDK sees a network error, not an answer', async () => {
    proxy.setFault({ kind: 'drop' });
    const err = await failure(secretsManagerClient('us-east-1', viaProxy()).send(new GetSecretValueCommand({ SecretId: 's' })));
    expect(err.$metadata?.httpStatusCode).toBeUndefined();
    expect(`${err.name} ${err.message} ${(err as { code?: string }).code}`).toMatch(/ECONNRESET|socket hang up/);
    expect(proxy.records[0]).toMatchObject({ fault: 'drop', status: undefined });
  });

  it('truncates the answer: the SDK fails to read it', async () => {
    await createSecret('us-east-1', 's', 'a value long enough to be cut in half');
    proxy.setFault({ kind: 'truncate' });
    const err = await failure(secretsManagerClient('us-east-1', viaProxy()).send(new GetSecretValueCommand({ SecretId: 's' })));
    expect(err.message).toMatch(/aborted/);
    expect(err.$metadata?.httpStatusCode).toBe(200);
    expect(proxy.records[0]).toMatchObject({ fault: 'truncate', status: 200 });
  });

  it('records unsigned STS AssumeRoleWithWebIdentity calls with moto answering them', async () => {
    const sts = stsClient('us-east-1', viaProxy());
    const out = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: 'arn:aws:iam::123456789012:role/app',
        RoleSessionName: 'ns-pod',
        WebIdentityToken: 'a.jwt.token',
        DurationSeconds: 900,
      }),
    );
    expect(out.Credentials?.AccessKeyId).toBeTruthy();
    expect(proxy.records).toMatchObject([
      {
        service: 'sts',
        action: 'AssumeRoleWithWebIdentity',
        region: undefined,
        accessKeyId: undefined,
        roleArn: 'arn:aws:iam::123456789012:role/app',
        roleSessionName: 'ns-pod',
        webIdentityToken: 'a.jwt.token',
        durationSeconds: 900,
        status: 200,
      },
    ]);
  });

  it('answers an STS fault in the query protocol shape', async () => {
    proxy.setFault({ service: 'sts', kind: 'throttle' });
    const err = await failure(
      stsClient('us-east-1', viaProxy()).send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::123456789012:role/app', RoleSessionName: 's', WebIdentityToken: 't' }),
      ),
    );
    expect(err.name).toBe('Throttling');
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });
});
