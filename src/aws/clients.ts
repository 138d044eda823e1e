/**
 * SDK clients, one per service and region for the life of the process (never built per Mount nor per identity): a
 * client holds resolved endpoints, a warm retry token bucket and, for `adaptive` retries, its rate limiter. Each
 * identity signs its own requests through them (see signingAs).
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { LRUCache } from 'lru-cache';
import { FLAG_DEFAULTS } from '../config/flags.js';
import type { AwsCredentials, AwsIdentity, RegionClients } from './types.js';
import { observeCalls, observeThrottles, type AwsCallObserver, type ThrottleObserver } from './callObserver.js';
import { keepAliveHandler } from './httpHandler.js';
import type { InProcessHandler } from './inProcessAnswers.js';
import { SharedCalls } from './sharedCalls.js';

export interface AwsClientPoolOptions {
  /** Clients kept at most (identity × region); the least recently used pair is dropped. Default 500. */
  maxClients?: number;
  /** Drop a pair unused for this long (ms); 0 keeps it until evicted by size. Default 0. */
  idleTtlMs?: number;
  /** TCP + TLS connect limit per attempt (ms). Default 3000. */
  connectionTimeoutMs?: number;
  /** Whole request limit per attempt (ms); a breach is a TimeoutError the SDK retries. Default --aws-request-timeout's. */
  requestTimeoutMs?: number;
  /** Sockets per AWS endpoint host, shared by every client of the pool. Default 64. */
  maxSockets?: number;
  /** The SDK's retry strategy: `standard` or `adaptive` (adds client-side rate limiting). Default --aws-retry-mode's. */
  retryMode?: 'standard' | 'adaptive';
  /** Attempts per call, the first included. Default --aws-max-attempts's. */
  maxAttempts?: number;
  /**
   * Appended to the SDK's user agent so AWS-side logs (CloudTrail) can tell our calls apart: space-separated
   * `name/version` tokens, e.g. `aws-secrets-csi-provider/0.1.0 eks-addon/v1.2`.
   */
  userAgent?: string;
  /** The SDK's app id (`app/<id>` in the user agent), as ASCP sets it: see userAgentConfig. */
  appId?: string;
  /** Told of every call once it ended (after retries): where the metrics plug in. */
  onCall?: AwsCallObserver;
  /** Told of every attempt AWS throttled, retried ones included. */
  onThrottled?: ThrottleObserver;
  /** Answers every request in place of the network, the connection options aside (priming, src/mount/prime.ts). */
  requestHandler?: InProcessHandler;
}

/**
 * The user agent settings of every AWS client the provider builds (Secrets Manager, SSM and STS alike), so CloudTrail
 * and AWS's usage figures see one product whatever the call.
 */
export function userAgentConfig(options: { userAgent?: string; appId?: string }) {
  return {
    customUserAgent: userAgentPairs(options.userAgent ?? 'aws-secrets-csi-provider'),
    ...(options.appId !== undefined && { userAgentAppId: options.appId }),
  };
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
  /** The credentials most recently handed in for this identity; its requests sign with them. */
  credentials: AwsCredentials;
}

interface SdkClients {
  secretsManager: SecretsManagerClient;
  ssm: SSMClient;
}

/**
 * The identity whose request is being sent. The SDK clients are shared by every identity of a region; each request
 * is sent inside `signingAs.run(entry, …)` and its credentials provider, called by the SDK within that request's own
 * async chain (also for its retries), reads the identity from here. No request can see another's.
 */
const signingAs = new AsyncLocalStorage<PoolEntry>();

async function signingCredentials() {
  const entry = signingAs.getStore();
  // Only the facades below send; a request without an identity is a bug, never an anonymous or borrowed signature.
  if (entry === undefined) throw new Error('an AWS request was sent without an identity');
  const current = entry.credentials;
  return typeof current === 'function' ? current() : current;
}

export class AwsClientPool {
  /** Per identity and region: its credentials and the calls it shares (see SharedCalls). Small, no SDK client. */
  private readonly entries: LRUCache<string, PoolEntry>;
  /**
   * One Secrets Manager and one SSM client per region, for every identity: a client costs ~50 KB and ~2 ms of CPU
   * on its first request, which a client per identity paid for each new ServiceAccount. Their retry quota and, for
   * `adaptive`, their rate limiter are the region's, which is where 5xx and throttling come from.
   */
  private readonly regions: LRUCache<string, SdkClients>;
  /**
   * One handler, so one keep-alive agent, for every client: connections to an endpoint host are reused across
   * identities (a connection carries no credentials, each request is signed) and the socket count stays bounded
   * for the whole process.
   */
  private readonly handler: NodeHttpHandler | InProcessHandler;
  private readonly retryMode: 'standard' | 'adaptive';
  private readonly maxAttempts: number;
  private readonly userAgent: ReturnType<typeof userAgentConfig>;
  private readonly onCall: AwsCallObserver | undefined;
  private readonly onThrottled: ThrottleObserver | undefined;

  constructor(options: AwsClientPoolOptions = {}) {
    this.handler = options.requestHandler ?? keepAliveHandler({ ...options, maxSockets: options.maxSockets ?? 64 });
    this.entries = new LRUCache<string, PoolEntry>({
      max: options.maxClients ?? 500,
      ...(options.idleTtlMs ? { ttl: options.idleTtlMs, updateAgeOnGet: true } : {}),
    });
    // Region names only have to look like one (config/parameters): the bound keeps the set finite whatever comes in.
    // A facade keeps its region's clients alive even after they are dropped from here.
    this.regions = new LRUCache<string, SdkClients>({ max: 64 });
    this.retryMode = options.retryMode ?? FLAG_DEFAULTS.awsRetryMode;
    this.maxAttempts = options.maxAttempts ?? FLAG_DEFAULTS.awsMaxAttempts;
    this.userAgent = userAgentConfig(options);
    this.onCall = options.onCall;
    this.onThrottled = options.onThrottled;
  }

  /**
   * The clients of `identity` in `region`: the region's SDK clients, seen through facades that sign every request
   * as this identity. The cache key holds the identity key, so a pod never signs as another identity. Fresh
   * credentials for the same identity replace the old ones in place, and the next request signs with them.
   */
  clientsFor(identity: AwsIdentity, region: string): RegionClients {
    const key = JSON.stringify([identity.key, region]);
    const found = this.entries.get(key);
    if (found) {
      found.credentials = identity.credentials;
      return found.clients;
    }
    const sdk = this.sdkClients(region);
    const entry = { credentials: identity.credentials } as PoolEntry;
    entry.clients = {
      // Every request of this identity runs, and so signs, inside `signingAs.run(entry, …)`.
      secretsManager: {
        send: ((...args: Parameters<SecretsManagerClient['send']>) =>
          signingAs.run(entry, () => sdk.secretsManager.send(...args))) as SecretsManagerClient['send'],
      },
      ssm: {
        send: ((...args: Parameters<SSMClient['send']>) =>
          signingAs.run(entry, () => sdk.ssm.send(...args))) as SSMClient['send'],
      },
      shared: new SharedCalls(),
    };
    this.entries.set(key, entry);
    return entry.clients;
  }

  /** Closes every pooled connection; call once at shutdown. */
  destroy(): void {
    this.entries.clear();
    this.regions.clear();
    this.handler.destroy?.();
  }

  private sdkClients(region: string): SdkClients {
    const found = this.regions.get(region);
    if (found) return found;
    // The provider's credential cache decides when credentials are renewed (--credential-refresh-margin).
    // `memoized` tells the SDK to keep no copy of its own, so every request asks signingCredentials, which answers
    // with the credentials of the identity sending it, as handed in last.
    // Endpoint and FIPS come from the SDK's standard settings (AWS_ENDPOINT_URL*, AWS_USE_FIPS_ENDPOINT).
    const config = {
      region,
      credentials: Object.assign(signingCredentials, { memoized: true }),
      requestHandler: this.handler,
      retryMode: this.retryMode,
      maxAttempts: this.maxAttempts,
      ...this.userAgent,
    };
    const clients = { secretsManager: new SecretsManagerClient(config), ssm: new SSMClient(config) };
    if (this.onCall) {
      const step = { step: 'initialize', name: 'observeCalls' } as const;
      clients.secretsManager.middlewareStack.add(observeCalls('secretsmanager', region, this.onCall), step);
      clients.ssm.middlewareStack.add(observeCalls('ssm', region, this.onCall), step);
    }
    if (this.onThrottled) {
      const step = { step: 'finalizeRequest', priority: 'low', name: 'observeThrottles' } as const;
      clients.secretsManager.middlewareStack.add(observeThrottles('secretsmanager', region, this.onThrottled), step);
      clients.ssm.middlewareStack.add(observeThrottles('ssm', region, this.onThrottled), step);
    }
    this.regions.set(region, clients);
    return clients;
  }
}
