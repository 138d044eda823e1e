import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AwsClientPool } from '../../../src/aws/clients.js';

/**
 * A loopback listener stands where AWS would: it answers every request with `status` and keeps its headers, so the
 * tests read who signed each request (the access key in its Authorization header), its user agent and attempts.
 */
let server: Server;
let seen: IncomingHttpHeaders[] = [];
let bodies: string[] = [];
let status = 200;
let pool: AwsClientPool;
const previousEndpoint = process.env.AWS_ENDPOINT_URL;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.statusCode = status;
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end(status === 200 ? JSON.stringify({ Name: 'n', SecretString: 'v', VersionId: '1', Parameters: [] }) : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = previousEndpoint;
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  pool.destroy();
  seen = [];
  bodies = [];
  status = 200;
});

const keyOf = (id: string) => ({ accessKeyId: id, secretAccessKey: 'x' });
const signer = (headers: IncomingHttpHeaders) => /Credential=([^/]+)\//.exec(String(headers.authorization))?.[1];
const getSecret = () => new GetSecretValueCommand({ SecretId: 'n' });

describe('AwsClientPool', () => {
  it('reuses the clients of one identity in one region', () => {
    pool = new AwsClientPool();
    const first = pool.clientsFor({ key: 'ns/sa/irsa/role', credentials: keyOf('AKIDA') }, 'us-east-1');
    expect(pool.clientsFor({ key: 'ns/sa/irsa/role', credentials: keyOf('AKIDA') }, 'us-east-1')).toBe(first);
  });

  it('never hands one identity the clients of another, nor of another region', () => {
    pool = new AwsClientPool();
    const a = pool.clientsFor({ key: 'ns/a', credentials: keyOf('AKIDA') }, 'us-east-1');
    expect(pool.clientsFor({ key: 'ns/b', credentials: keyOf('AKIDB') }, 'us-east-1')).not.toBe(a);
    expect(pool.clientsFor({ key: 'ns/a', credentials: keyOf('AKIDA') }, 'us-west-2')).not.toBe(a);
  });

  it('signs every request as the identity that sends it, many identities interleaved on the shared clients', async () => {
    pool = new AwsClientPool();
    const identities = Array.from({ length: 20 }, (_, i) => ({ key: `ns/sa-${i}`, credentials: keyOf(`AKID${i}`) }));
    const sends = identities.flatMap((identity, i) => {
      const clients = pool.clientsFor(identity, 'us-east-1');
      const send = i % 2
        ? () => clients.ssm.send(new GetParametersCommand({ Names: [`p${i}`] }))
        : () => clients.secretsManager.send(new GetSecretValueCommand({ SecretId: `s${i}` }));
      return [send, send, send];
    });
    const answered = await Promise.all(sends.map((send) => send().then(() => true)));

    expect(answered).toHaveLength(60);
    // Each request's body names what its identity asked for (s7 or p8): its signature must be that identity's.
    expect(seen).toHaveLength(60);
    seen.forEach((headers, k) => {
      const owner = Number(/"[sp](\d+)"/.exec(bodies[k]!)?.[1]);
      expect(signer(headers), bodies[k]).toBe(`AKID${owner}`);
    });
  });

  it('signs with the credentials most recently handed in for the identity, even far from their expiry', async () => {
    pool = new AwsClientPool();
    const hourly = { ...keyOf('AKIDOLD'), expiration: new Date(Date.now() + 3_600_000) };
    const { secretsManager } = pool.clientsFor({ key: 'ns/a', credentials: hourly }, 'us-east-1');
    await secretsManager.send(getSecret());
    const renewed = { ...keyOf('AKIDRENEWED'), expiration: new Date(Date.now() + 7_200_000) };
    pool.clientsFor({ key: 'ns/a', credentials: renewed }, 'us-east-1');
    await secretsManager.send(getSecret());
    expect(seen.map(signer)).toEqual(['AKIDOLD', 'AKIDRENEWED']);
  });

  it('keeps at most maxClients identity-region pairs', () => {
    pool = new AwsClientPool({ maxClients: 2 });
    const a = pool.clientsFor({ key: 'a', credentials: keyOf('AKIDA') }, 'us-east-1');
    pool.clientsFor({ key: 'b', credentials: keyOf('AKIDB') }, 'us-east-1');
    pool.clientsFor({ key: 'c', credentials: keyOf('AKIDC') }, 'us-east-1');
    expect(pool.clientsFor({ key: 'a', credentials: keyOf('AKIDA') }, 'us-east-1')).not.toBe(a);
  });

  it('configures the attempts per call and the user agent', async () => {
    pool = new AwsClientPool({ retryMode: 'adaptive', maxAttempts: 5, userAgent: 'aws-secrets-csi-provider/1.2.3 eks-addon/v9' });
    const { secretsManager } = pool.clientsFor({ key: 'a', credentials: keyOf('AKIDA') }, 'us-east-1');
    status = 500;
    await expect(secretsManager.send(getSecret())).rejects.toMatchObject({ $metadata: { attempts: 5 } });
    expect(seen.map(signer)).toEqual(Array(5).fill('AKIDA'));
    expect(String(seen[0]!['amz-sdk-request'])).toContain('max=5');
    const userAgent = String(seen[0]!['user-agent']) + ' ' + String(seen[0]!['x-amz-user-agent']);
    expect(userAgent).toContain('aws-secrets-csi-provider/1.2.3');
    expect(userAgent).toContain('eks-addon/v9');
  }, 30_000);
});
