import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { LRUCache } from 'lru-cache';
import { userAgentConfig } from '../aws/clients.js';
import { keepAliveHandler } from '../aws/httpHandler.js';
import { FLAG_DEFAULTS } from '../config/flags.js';
import type { InProcessHandler } from '../aws/inProcessAnswers.js';

export interface StsOptions {
  /** Whole request limit per attempt (ms), as `--aws-request-timeout`; a breach is retried. Default the flag's. */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Attempts per call, as `--aws-max-attempts`. Default the flag's. */
  maxAttempts?: number;
  retryMode?: 'standard' | 'adaptive';
  /** Answers every request in place of the network, the connection options aside (priming, src/mount/prime.ts). */
  requestHandler?: InProcessHandler;
  /** STS endpoint by region (--sts-endpoints); a region not listed resolves its endpoint as the SDK does. */
  endpoints?: Readonly<Record<string, string>>;
  /** The user agent of every AWS call (see userAgentConfig), STS's included. */
  userAgent?: string;
  appId?: string;
}

/**
 * STS clients on one keep-alive handler, with the provider's retry and per-attempt timeout settings. Endpoint
 * and FIPS come from the SDK's env (AWS_ENDPOINT_URL*, AWS_USE_FIPS_ENDPOINT) unless --sts-endpoints names the
 * region's; the region makes it regional.
 * Clients are never destroyed one by one: that would close the shared handler.
 */
export class StsClients {
  private readonly handler: NodeHttpHandler | InProcessHandler;
  // Web-identity calls are unsigned, so one client per region serves every identity.
  private readonly unsigned = new LRUCache<string, STSClient>({ max: 64 });

  constructor(private readonly options: StsOptions = {}) {
    this.handler = options.requestHandler ?? keepAliveHandler({ ...options, maxSockets: 16 });
  }

  /** For AssumeRoleWithWebIdentity: no credentials of its own. */
  webIdentity(region: string): STSClient {
    let client = this.unsigned.get(region);
    if (!client) this.unsigned.set(region, (client = this.create(region)));
    return client;
  }

  /** For AssumeRole, signed with `credentials`: built per call (only on a credential cache miss). */
  signedWith(region: string, credentials: AwsCredentialIdentity): STSClient {
    return this.create(region, credentials);
  }

  destroy(): void {
    this.unsigned.clear();
    this.handler.destroy?.();
  }

  private create(region: string, credentials?: AwsCredentialIdentity): STSClient {
    return new STSClient({
      region,
      requestHandler: this.handler,
      maxAttempts: this.options.maxAttempts ?? FLAG_DEFAULTS.awsMaxAttempts,
      retryMode: this.options.retryMode ?? FLAG_DEFAULTS.awsRetryMode,
      ...(this.options.endpoints?.[region] !== undefined && { endpoint: this.options.endpoints[region] }),
      ...userAgentConfig(this.options),
      ...(credentials !== undefined && { credentials }),
    });
  }
}
