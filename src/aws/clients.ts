/**
 * SDK clients, reused per identity and region for the life of the process (never built per Mount): a client
 * holds resolved endpoints, a warm retry token bucket and, for `adaptive` retries, its rate limiter.
 */

import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LRUCache } from 'lru-cache';
import type { AwsCredentials, AwsIdentity, RegionClients } from './types.js';
import { observeCalls, type AwsCallObserver } from './callObserver.js';
import { SharedCalls } from './sharedCalls.js';

export interface AwsClientPoolOptions {
  /** Clients kept at most (identity × region); the least recently used pair is dropped. Default 500. */
  maxClients?: number;
  /** Drop a pair unused for this long (ms); 0 keeps it until evicted by size. Default 0. */
  idleTtlMs?: number;
  /** TCP + TLS connect limit per attempt (ms). Default 3000. */
  connectionTimeoutMs?: number;
  /** Whole request limit per attempt (ms); a breach is a TimeoutError the SDK retries. Default 10000. */
  requestTimeoutMs?: number;
  /** Sockets per AWS endpoint host, shared by every client of the pool. Default 64. */
  maxSockets?: number;
  /** The SDK's retry strategy: `standard` (default) or `adaptive` (adds client-side rate limiting). */
  retryMode?: 'standard' | 'adaptive';
  /** Attempts per call, the first included. Default 3. */
  maxAttempts?: number;
  /**
   * Appended to the SDK's user agent so AWS-side logs (CloudTrail) can tell our calls apart: space-separated
   * `name/version` tokens, e.g. `aws-secrets-csi-provider/0.1.0 eks-addon/v1.2`.
   */
  userAgent?: string;
  /** Told of every call once it ended (after retries): where the metrics plug in. */
  onCall?: AwsCallObserver;
}

/** `a/1 b/2` → [['a', '1'], ['b', '2']]: the SDK escapes a whole string into one token, mangling the rest. */
function userAgentPairs(userAgent: string): [string, string?][] {
  return userAgent
    .split(/\s+/)
    .filter((token) => token !== '')
    .map((token) => {
      const slash = token.indexOf('/');
      return slash < 0 ? [token] : [token.slice(0, slash), token.slice(slash + 1)];
    });
}

interface PoolEntry {
  clients: RegionClients;
  /** The credentials most recently handed in for this identity; the clients read them through a provider. */
  credentials: AwsCredentials;
}

export class AwsClientPool {
  private readonly entries: LRUCache<string, PoolEntry>;
  /**
   * One handler, so one keep-alive agent, for every client: connections to an endpoint host are reused across
   * identities (a connection carries no credentials, each request is signed) and the socket count stays bounded
   * for the whole process. For the same reason an evicted client is dropped, not destroyed: `client.destroy()`
   * would destroy the shared handler, and the client owns nothing else to release.
   */
  private readonly handler: NodeHttpHandler;
  private readonly retryMode: 'standard' | 'adaptive';
  private readonly maxAttempts: number;
  private readonly userAgent: [string, string?][];
  private readonly onCall: AwsCallObserver | undefined;

  constructor(options: AwsClientPoolOptions = {}) {
    const maxSockets = options.maxSockets ?? 64;
    this.handler = new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      throwOnRequestTimeout: true,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    });
    this.entries = new LRUCache<string, PoolEntry>({
      max: options.maxClients ?? 500,
      ...(options.idleTtlMs ? { ttl: options.idleTtlMs, updateAgeOnGet: true } : {}),
    });
    this.retryMode = options.retryMode ?? 'standard';
    this.maxAttempts = options.maxAttempts ?? 3;
    this.userAgent = userAgentPairs(options.userAgent ?? 'aws-secrets-csi-provider');
    this.onCall = options.onCall;
  }

  /**
   * The clients of `identity` in `region`. The cache key holds the identity key, so a pod never signs with a
   * client built for another identity. Fresh credentials for the same identity replace the old ones in place, and
   * the next request signs with them.
   */
  clientsFor(identity: AwsIdentity, region: string): RegionClients {
    const key = JSON.stringify([identity.key, region]);
    const found = this.entries.get(key);
    if (found) {
      found.credentials = identity.credentials;
      return found.clients;
    }
    const entry = { credentials: identity.credentials } as PoolEntry;
    // The provider's credential cache decides when credentials are renewed (--credential-refresh-margin).
    // `memoized` tells the SDK to keep no copy of its own, so every request signs with the credentials handed in
    // last, even when the cache renewed them before the SDK's own 5-minute window.
    const credentials = Object.assign(
      async () => {
        const current = entry.credentials;
        return typeof current === 'function' ? current() : current;
      },
      { memoized: true },
    );
    // Endpoint and FIPS come from the SDK's standard settings (AWS_ENDPOINT_URL*, AWS_USE_FIPS_ENDPOINT).
    const config = {
      region,
      credentials,
      requestHandler: this.handler,
      retryMode: this.retryMode,
      maxAttempts: this.maxAttempts,
      customUserAgent: this.userAgent,
    };
    entry.clients = {
      secretsManager: new SecretsManagerClient(config),
      ssm: new SSMClient(config),
      shared: new SharedCalls(),
    };
    if (this.onCall) {
      const step = { step: 'initialize', name: 'observeCalls' } as const;
      entry.clients.secretsManager.middlewareStack.add(observeCalls('secretsmanager', region, this.onCall), step);
      entry.clients.ssm.middlewareStack.add(observeCalls('ssm', region, this.onCall), step);
    }
    this.entries.set(key, entry);
    return entry.clients;
  }

  /** Closes every pooled connection; call once at shutdown. */
  destroy(): void {
    this.entries.clear();
    this.handler.destroy();
  }
}
