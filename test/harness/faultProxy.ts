import { randomUUID } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAwsCall, type AwsCall } from './awsRequest.js';

/** A fault the proxy injects; every other answer is moto's own. */
export type Fault =
  /** An AWS-shaped server error (InternalFailure, or ServiceUnavailable for 503) instead of forwarding. */
  | { kind: 'status'; status: 500 | 502 | 503 | 504 }
  /** HTTP 400 ThrottlingException (query protocol: Throttling) instead of forwarding. */
  | { kind: 'throttle' }
  /** Waits, then forwards. */
  | { kind: 'delay'; ms: number }
  /** Closes the connection without an answer. */
  | { kind: 'drop' }
  /** Forwards, then cuts the connection halfway through moto's response body. */
  | { kind: 'truncate' }
  /**
   * STS refusing a web identity token (HTTP 400 InvalidIdentityToken, as STS answers a token it does not accept)
   * after `afterMs`; moto accepts every token, so a test that needs one refused says which.
   */
  | { kind: 'refuseToken'; afterMs?: number };

/** A fault for the calls that match every given field; `times` limits how often it fires (default: always). */
export type FaultRule = Fault & {
  service?: string;
  action?: string;
  region?: string;
  /** Only the STS calls made with this web identity token. */
  webIdentityToken?: string;
  times?: number;
};

/**
 * An account-wide quota as AWS enforces it: a token bucket per action (and region, when given) refilled at
 * `perSecond`, holding up to `burst` (default: one second's worth). A call finding it empty is answered HTTP 400
 * ThrottlingException in the service's wire format, as AWS answers, and never reaches moto.
 */
export interface Quota {
  service?: string;
  action: string;
  region?: string;
  perSecond: number;
  burst?: number;
}

export interface RecordedRequest extends AwsCall {
  /** SecretId, or the SecretIdList of BatchGetSecretValue (its Filters are in `body`). */
  secretIds: string[];
  /** SSM Names (GetParameters) or Name. */
  names: string[];
  roleArn: string | undefined;
  roleSessionName: string | undefined;
  webIdentityToken: string | undefined;
  externalId: string | undefined;
  durationSeconds: number | undefined;
  /** The status sent back (moto's, or the injected fault's); undefined when the connection was dropped. */
  status: number | undefined;
  /** The fault injected, or `quota` when a quota's bucket was empty. */
  fault: Fault['kind'] | 'quota' | undefined;
  /** moto's answer body, kept for STS calls only: the credentials it issued, for tests that look for leaks. */
  answer: string | undefined;
  /** Set when moto could not be reached (the client then sees a dropped connection). */
  upstreamError: string | undefined;
  /** Epoch milliseconds when the request arrived. */
  at: number;
  /** The address the request came from: a proxy's outgoing address tells a proxied call from a direct one. */
  remoteAddress: string | undefined;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT: give it to a client as its endpoint. */
  url: string;
  /** Every request, in arrival order (a live array). */
  readonly records: readonly RecordedRequest[];
  /**
   * The provider's --sts-endpoints value when the proxy was started with `stsRegions`: a listener per region, so an
   * unsigned STS call (AssumeRoleWithWebIdentity names no region) is recorded, and faulted, by its endpoint's region.
   */
  stsEndpoints: string;
  /**
   * Closes (or opens again, on the same port) a region's STS listener: its calls then meet a refused connection,
   * which no fault rule can give once a connection is accepted.
   */
  refuseSts(region: string, refusing: boolean): Promise<void>;
  setFault(rule: FaultRule): void;
  clearFaults(): void;
  /** Enforces a quota from now on (see Quota); faults are checked first. */
  setQuota(quota: Quota): void;
  clearQuotas(): void;
  clearRecords(): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Port on 127.0.0.1 (default: any free one); a fixed port lets a provider be started before the proxy. */
  port?: number;
  /** Regions whose STS gets a listener of its own (see FaultProxy.stsEndpoints). */
  stsRegions?: readonly string[];
}

/** A pass-through proxy in front of moto that records each AWS call and injects the faults it is told to. */
export async function startFaultProxy(targetUrl: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true });
  const records: RecordedRequest[] = [];
  let rules: (FaultRule & { remaining: number })[] = [];
  let quotas: { quota: Quota; tokens: number; refilledAt: number }[] = [];

  /** False when the call's quota bucket is empty; a call takes a token from every quota it matches. */
  const withinQuota = (call: AwsCall): boolean => {
    const now = performance.now();
    let allowed = true;
    for (const bucket of quotas) {
      const { quota } = bucket;
      if (quota.action !== call.action || (quota.service ?? call.service) !== call.service) continue;
      if (quota.region !== undefined && quota.region !== call.region) continue;
      const burst = quota.burst ?? quota.perSecond;
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.refilledAt) / 1000) * quota.perSecond);
      bucket.refilledAt = now;
      if (bucket.tokens >= 1) bucket.tokens -= 1;
      else allowed = false;
    }
    return allowed;
  };

  const takeFault = (call: AwsCall): Fault | undefined => {
    const rule = rules.find(
      (r) =>
        (r.service === undefined || r.service === call.service) &&
        (r.action === undefined || r.action === call.action) &&
        (r.region === undefined || r.region === call.region) &&
        (r.webIdentityToken === undefined || r.webIdentityToken === call.body?.WebIdentityToken),
    );
    if (!rule) return undefined;
    if (--rule.remaining <= 0) rules = rules.filter((r) => r !== rule);
    return rule;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, record: RecordedRequest) => {
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent },
      (answer) => {
        record.status = answer.statusCode;
        if (record.service === 'sts') keepAnswer(answer, record);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (record.fault === 'truncate') cutHalfway(answer, res);
        else answer.pipe(res);
      },
    );
    upstream.once('error', (err) => {
      record.upstreamError = err.message;
      console.error(`[fault proxy] cannot reach ${targetUrl}: ${err.message}`);
      res.destroy();
    });
    upstream.end(body);
  };

  const handle = (stsRegion: string | undefined) => (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const body = Buffer.concat(chunks);
      const call = parseAwsCall(req.headers, body);
      // A signed call names its region in its SigV4 scope; an unsigned one, only by the endpoint it was sent to.
      if (stsRegion !== undefined) call.region ??= stsRegion;
      const fault = takeFault(call);
      const record = toRecord(call, fault, req.socket.remoteAddress);
      records.push(record);
      if (fault === undefined && !withinQuota(call)) {
        record.fault = 'quota';
        record.status = 400;
        sendError(res, call, { kind: 'throttle' });
        return;
      }
      switch (fault?.kind) {
        case 'status':
        case 'throttle':
          record.status = fault.kind === 'status' ? fault.status : 400;
          sendError(res, call, fault);
          return;
        case 'drop':
          req.socket.destroy();
          return;
        case 'refuseToken': {
          const timer = setTimeout(() => {
            record.status = 400;
            sendError(res, call, fault);
          }, fault.afterMs ?? 0);
          res.once('close', () => clearTimeout(timer));
          return;
        }
        case 'delay': {
          const timer = setTimeout(() => forward(req, res, body, record), fault.ms);
          // A call whose client gave up (or whose proxy closed) must not reach moto later, in another test's time:
          // moto's state, its IAM enforcement counter for one, is shared by every test of the run.
          res.once('close', () => clearTimeout(timer));
          return;
        }
        default:
          forward(req, res, body, record);
      }
    });
  };
  const servers = new Map<string, Server>();
  const listen = async (port: number, stsRegion?: string): Promise<number> => {
    const server = createServer(handle(stsRegion));
    servers.set(stsRegion ?? '', server);
    // A client that gives up (timeout, abort) resets its socket; that is expected here, not a proxy failure.
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return (server.address() as AddressInfo).port;
  };
  const closeServer = (server: Server) =>
    new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  const port = await listen(options.port ?? 0);
  const stsPorts = new Map<string, number>();
  for (const region of options.stsRegions ?? []) stsPorts.set(region, await listen(0, region));

  return {
    url: `http://127.0.0.1:${port}`,
    records,
    stsEndpoints: [...stsPorts].map(([region, stsPort]) => `${region}=http://127.0.0.1:${stsPort}`).join(','),
    async refuseSts(region, refusing) {
      const stsPort = stsPorts.get(region);
      if (stsPort === undefined) throw new Error(`the fault proxy has no STS listener for ${region} (stsRegions)`);
      const server = servers.get(region);
      if (refusing && server?.listening) await closeServer(server);
      if (!refusing && !server?.listening) await listen(stsPort, region);
    },
    setFault: (rule) => rules.push({ ...rule, remaining: rule.times ?? Infinity }),
    clearFaults: () => (rules = []),
    setQuota: (quota) =>
      quotas.push({ quota, tokens: quota.burst ?? quota.perSecond, refilledAt: performance.now() }),
    clearQuotas: () => (quotas = []),
    clearRecords: () => void records.splice(0),
    close: async () => {
      await Promise.all([...servers.values()].filter((server) => server.listening).map(closeServer));
      agent.destroy();
    },
  };
}

function toRecord(call: AwsCall, fault: Fault | undefined, remoteAddress: string | undefined): RecordedRequest {
  const body = call.body ?? {};
  const str = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : undefined);
  const strings = (key: string) => (Array.isArray(body[key]) ? (body[key] as unknown[]).map(String) : []);
  const duration = str('DurationSeconds') ?? body.DurationSeconds;
  return {
    ...call,
    secretIds: [...(str('SecretId') === undefined ? [] : [str('SecretId')!]), ...strings('SecretIdList')],
    names: [...strings('Names'), ...(str('Name') === undefined ? [] : [str('Name')!])],
    roleArn: str('RoleArn'),
    roleSessionName: str('RoleSessionName'),
    webIdentityToken: str('WebIdentityToken'),
    externalId: str('ExternalId'),
    durationSeconds: duration === undefined ? undefined : Number(duration),
    status: undefined,
    fault: fault?.kind,
    answer: undefined,
    upstreamError: undefined,
    at: Date.now(),
    remoteAddress,
  };
}

function sendError(
  res: ServerResponse,
  call: AwsCall,
  fault: Extract<Fault, { kind: 'status' | 'throttle' | 'refuseToken' }>,
) {
  const status = fault.kind === 'status' ? fault.status : 400;
  const code =
    fault.kind === 'refuseToken'
      ? 'InvalidIdentityToken'
      : fault.kind === 'throttle'
        ? call.protocol === 'query'
          ? 'Throttling'
          : 'ThrottlingException'
        : status === 503
          ? 'ServiceUnavailable'
          : 'InternalFailure';
  const message = `${code} injected by the test fault proxy`;
  const requestId = randomUUID();
  if (call.protocol === 'query') {
    const type = fault.kind === 'status' ? 'Receiver' : 'Sender';
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(
      `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': code,
  });
  res.end(JSON.stringify({ __type: code, message }));
}

function keepAnswer(answer: IncomingMessage, record: RecordedRequest) {
  const chunks: Buffer[] = [];
  answer.on('data', (chunk: Buffer) => chunks.push(chunk));
  answer.once('end', () => (record.answer = Buffer.concat(chunks).toString('utf8')));
}

/** Sends the first half of the body, then closes the connection: the client sees a transfer cut short. */
function cutHalfway(answer: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  answer.on('data', (chunk: Buffer) => chunks.push(chunk));
  answer.once('end', () => {
    const whole = Buffer.concat(chunks);
    res.write(whole.subarray(0, Math.floor(whole.length / 2)), () => res.destroy());
  });
}
