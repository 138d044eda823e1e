import { afterEach, describe, expect, it } from 'vitest';
import { AwsClientPool } from '../../../src/aws/clients.js';

// Building clients makes no call; no endpoint is ever contacted here.
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' };
let pool: AwsClientPool;
afterEach(() => pool.destroy());

describe('AwsClientPool', () => {
  it('reuses the clients of one identity in one region', () => {
    pool = new AwsClientPool();
    const first = pool.clientsFor({ key: 'ns/sa/irsa/role', credentials }, 'us-east-1');
    expect(pool.clientsFor({ key: 'ns/sa/irsa/role', credentials }, 'us-east-1')).toBe(first);
  });

  it('never hands one identity the clients of another, nor of another region', () => {
    pool = new AwsClientPool();
    const a = pool.clientsFor({ key: 'ns/a', credentials }, 'us-east-1');
    expect(pool.clientsFor({ key: 'ns/b', credentials }, 'us-east-1')).not.toBe(a);
    expect(pool.clientsFor({ key: 'ns/a', credentials }, 'us-west-2')).not.toBe(a);
  });

  it('signs with the credentials most recently handed in for the identity', async () => {
    pool = new AwsClientPool();
    const identity = { key: 'ns/a', credentials: { ...credentials, expiration: new Date(Date.now() + 60_000) } };
    const { ssm } = pool.clientsFor(identity, 'us-east-1');
    const renewed = { accessKeyId: 'AKIDRENEWED', secretAccessKey: 'y', expiration: new Date(Date.now() + 3_600_000) };
    pool.clientsFor({ key: 'ns/a', credentials: renewed }, 'us-east-1');
    // The SDK re-asks for credentials that expire within 5 minutes, so the renewed ones are used.
    await expect(ssm.config.credentials()).resolves.toMatchObject({ accessKeyId: 'AKIDRENEWED' });
  });

  it('signs with renewed credentials at once, even while the old ones are far from expiry', async () => {
    pool = new AwsClientPool();
    const hourly = { ...credentials, expiration: new Date(Date.now() + 3_600_000) };
    const { secretsManager } = pool.clientsFor({ key: 'ns/a', credentials: hourly }, 'us-east-1');
    await expect(secretsManager.config.credentials()).resolves.toMatchObject({ accessKeyId: 'AKIDTEST' });
    const renewed = { accessKeyId: 'AKIDRENEWED', secretAccessKey: 'y', expiration: new Date(Date.now() + 7_200_000) };
    pool.clientsFor({ key: 'ns/a', credentials: renewed }, 'us-east-1');
    await expect(secretsManager.config.credentials()).resolves.toMatchObject({ accessKeyId: 'AKIDRENEWED' });
  });

  it('keeps at most maxClients identity-region pairs', () => {
    pool = new AwsClientPool({ maxClients: 2 });
    const a = pool.clientsFor({ key: 'a', credentials }, 'us-east-1');
    pool.clientsFor({ key: 'b', credentials }, 'us-east-1');
    pool.clientsFor({ key: 'c', credentials }, 'us-east-1');
    expect(pool.clientsFor({ key: 'a', credentials }, 'us-east-1')).not.toBe(a);
  });

  it('configures retries and the user agent', async () => {
    pool = new AwsClientPool({ retryMode: 'adaptive', maxAttempts: 5, userAgent: 'aws-secrets-csi-provider/1.2.3 eks-addon/v9' });
    const { secretsManager } = pool.clientsFor({ key: 'a', credentials }, 'us-east-1');
    await expect(secretsManager.config.maxAttempts()).resolves.toBe(5);
    await expect(secretsManager.config.retryStrategy()).resolves.toMatchObject({ mode: 'adaptive' });
    expect(secretsManager.config.customUserAgent).toEqual([
      ['aws-secrets-csi-provider', '1.2.3'],
      ['eks-addon', 'v9'],
    ]);
  });
});
