import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { stsClient } from './moto.js';

/**
 * A stand-in for the EKS Pod Identity agent (moto has no EKS Auth API): the agent's credential contract on
 * 127.0.0.1 and [::1] — GET /v1/credentials with `Authorization: <pods.eks.amazonaws.com token>`, answered with
 * `{AccessKeyId, SecretAccessKey, Token, AccountId, Expiration}`. The credentials are real ones from moto's STS
 * (AssumeRole straight to moto, so the fault proxy records only the provider's calls).
 */
export interface AgentRequest {
  family: 'IPv4' | 'IPv6';
  path: string;
  authorization: string | undefined;
  /** The access key id handed out, when the answer carried credentials. */
  issuedAccessKeyId: string | undefined;
}

export type AgentBehaviour =
  | { kind: 'credentials' }
  /** An error answer, as the agent gives when EKS Auth refuses the token or has no association. */
  | { kind: 'status'; status: number; body: string }
  /** Waits this long before answering with credentials. */
  | { kind: 'delay'; ms: number }
  /** After `afterMs`, an error answer for the requests made with `token`; credentials for every other token. */
  | { kind: 'refuseToken'; token: string; afterMs: number; status: number; body: string };

export interface PodIdentityAgent {
  /** http://127.0.0.1:PORT/v1/credentials */
  readonly ipv4Url: string;
  /** http://[::1]:PORT/v1/credentials */
  readonly ipv6Url: string;
  /** Every request, in arrival order (a live array). */
  readonly requests: readonly AgentRequest[];
  behave(behaviour: AgentBehaviour): void;
}

// moto keeps one state per account: the role is in the account the tests seed secrets in.
export const AGENT_ROLE_ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** Starts the agent on both loopback addresses for the file (or describe block); requests are cleared per test. */
export function usePodIdentityAgent(): PodIdentityAgent {
  const requests: AgentRequest[] = [];
  let behaviour: AgentBehaviour = { kind: 'credentials' };
  let urls: { ipv4: string; ipv6: string } | undefined;
  const servers: Server[] = [];
  const sts = stsClient(REGION);
  const pending = new Set<NodeJS.Timeout>();

  const answer = async (family: AgentRequest['family'], req: IncomingMessage, res: ServerResponse) => {
    const record: AgentRequest = {
      family,
      path: req.url ?? '',
      authorization: req.headers.authorization,
      issuedAccessKeyId: undefined,
    };
    requests.push(record);
    const now = behaviour;
    if (now.kind === 'status') {
      res.writeHead(now.status, { 'content-type': 'text/plain' }).end(now.body);
      return;
    }
    const wait = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => (pending.delete(timer), resolve()), ms);
        pending.add(timer);
      });
    if (now.kind === 'delay') {
      await wait(now.ms);
      if (res.destroyed) return;
    }
    if (now.kind === 'refuseToken' && req.headers.authorization === now.token) {
      await wait(now.afterMs);
      res.writeHead(now.status, { 'content-type': 'text/plain' }).end(now.body);
      return;
    }
    if (req.url !== '/v1/credentials' || !req.headers.authorization) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('missing Authorization token or wrong path');
      return;
    }
    const serviceAccount = serviceAccountOf(req.headers.authorization) ?? 'unknown';
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${AGENT_ROLE_ACCOUNT}:role/pod-identity-${serviceAccount}`,
        RoleSessionName: `eks-pod-identity-${serviceAccount}`.slice(0, 64),
      }),
    );
    const credentials = out.Credentials!;
    record.issuedAccessKeyId = credentials.AccessKeyId;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        AccessKeyId: credentials.AccessKeyId,
        SecretAccessKey: credentials.SecretAccessKey,
        Token: credentials.SessionToken,
        AccountId: AGENT_ROLE_ACCOUNT,
        Expiration: credentials.Expiration!.toISOString(),
      }),
    );
  };

  const listen = async (family: AgentRequest['family'], host: string) => {
    const server = createServer((req, res) => {
      answer(family, req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`test agent failed: ${String(err)}`);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1/credentials`;
  };

  beforeAll(async () => {
    urls = { ipv4: await listen('IPv4', '127.0.0.1'), ipv6: await listen('IPv6', '::1') };
  });
  afterAll(async () => {
    for (const timer of pending) clearTimeout(timer);
    await Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections())),
    );
    sts.destroy();
  });
  beforeEach(() => {
    requests.splice(0);
    behaviour = { kind: 'credentials' };
  });

  const started = () => {
    if (!urls) throw new Error('the Pod Identity agent is not started: call usePodIdentityAgent() at the top level');
    return urls;
  };
  return {
    get ipv4Url() {
      return started().ipv4;
    },
    get ipv6Url() {
      return started().ipv6;
    },
    requests,
    behave: (next) => void (behaviour = next),
  };
}

/** A loopback URL where nothing listens: the port was free a moment ago and is closed again. */
export async function closedUrl(host: '127.0.0.1' | '::1'): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://${host === '::1' ? '[::1]' : host}:${port}/v1/credentials`;
}

/** The service account a projected token was minted for (`system:serviceaccount:<ns>:<sa>`), unverified. */
function serviceAccountOf(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string };
    return claims.sub?.split(':')[3];
  } catch {
    return undefined;
  }
}
