/**
 * The edges of a Mount pipeline answered inside the test process, for table-driven Mount tests of the real pipeline
 * (src/mount/core.ts): AWS as the SDK's request handler answering in each service's wire format (as
 * src/aws/inProcessAnswers.ts does for priming, here with state a case sets up), Kubernetes as the CoreApi reads with
 * a service account issuer whose key the test holds and signs tokens with, and the EKS Pod Identity agent as a fetch.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import type { InProcessHandler } from '../../../src/aws/inProcessAnswers.js';
import type { CoreApi } from '../../../src/k8s/coreApi.js';

const ACCOUNT = '111122223333';
export const ISSUER = 'https://issuer.in-process.invalid';

export interface SecretVersion {
  id: string;
  stages: string[];
  string?: string;
  binary?: Buffer;
}

export interface ParameterVersion {
  version: number;
  value: string;
  labels: string[];
}

/** An AWS failure as the service writes it: its HTTP status and error type. */
export interface AwsFault {
  status: number;
  type: string;
  message?: string;
}

/** What a call answers in place of the stored objects: a fault, a thrown error, or no answer until aborted. */
export type Override = AwsFault | 'throw' | 'hang' | undefined;

export interface AwsCall {
  region: string;
  action: string;
}

/** Secrets Manager, SSM and STS of every region, in memory. */
export class InProcessAws {
  readonly secrets = new Map<string, Map<string, SecretVersion[]>>();
  readonly parameters = new Map<string, Map<string, ParameterVersion[]>>();
  /** Tags by region and secret name, which ListSecrets answers. */
  readonly tags = new Map<string, Map<string, Record<string, string>>>();
  readonly calls: AwsCall[] = [];
  /** Consulted before every call: a case's faults (a region down, a denial, a refused role). */
  override: (call: AwsCall, body: Record<string, unknown>) => Override = () => undefined;

  putSecret(region: string, name: string, value: string | Buffer, stages = ['AWSCURRENT']): string {
    const id = randomUUID();
    const versions = this.regionMap(this.secrets, region).get(name) ?? [];
    for (const version of versions) version.stages = version.stages.filter((stage) => !stages.includes(stage));
    versions.push({ id, stages, ...(typeof value === 'string' ? { string: value } : { binary: value }) });
    this.regionMap(this.secrets, region).set(name, versions);
    return id;
  }

  putParameter(region: string, name: string, value: string, labels: string[] = []): number {
    const versions = this.regionMap(this.parameters, region).get(name) ?? [];
    const version = versions.length + 1;
    versions.push({ version, value, labels });
    this.regionMap(this.parameters, region).set(name, versions);
    return version;
  }

  handler(): InProcessHandler {
    return {
      handle: async (request, options) => ({ response: await this.answer(request, options?.abortSignal) }),
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
    };
  }

  private regionMap<T>(store: Map<string, Map<string, T>>, region: string): Map<string, T> {
    let map = store.get(region);
    if (map === undefined) store.set(region, (map = new Map()));
    return map;
  }

  private async answer(request: HttpRequest, signal: { aborted: boolean } | undefined): Promise<HttpResponse> {
    const region = /\.([a-z]{2}(?:-[a-z]+)+-\d)\./.exec(request.hostname)?.[1] ?? 'us-east-1';
    const text = bodyText(request);
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'];
    const body: Record<string, unknown> = target ? (JSON.parse(text) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(text));
    const action = target ? target.slice(target.indexOf('.') + 1) : String(body.Action);
    const call = { region, action };
    this.calls.push(call);
    const override = this.override(call, body);
    if (override === 'throw') throw new Error('an error of no kind the provider knows');
    if (override === 'hang') return new Promise((_, reject) => waitForAbort(signal, reject));
    if (override !== undefined) return target ? jsonFault(override) : xmlFault(override);
    switch (action) {
      case 'GetSecretValue':
        return this.getSecretValue(region, body);
      case 'BatchGetSecretValue':
        return this.batchGetSecretValue(region, body);
      case 'GetParameters':
        return this.getParameters(region, body);
      case 'GetParametersByPath':
        return this.getParametersByPath(region, body);
      case 'ListSecrets':
        return this.listSecrets(region, body);
      case 'AssumeRoleWithWebIdentity':
      case 'AssumeRole':
        return stsCredentials(action);
      default:
        throw new Error(`no in-process answer for ${action}`);
    }
  }

  private findSecret(region: string, id: string, versionId?: string, stage?: string) {
    const secrets = this.secrets.get(region) ?? new Map<string, SecretVersion[]>();
    const name = id.startsWith('arn:') ? id.slice(id.indexOf(':secret:') + 8).replace(/-[A-Za-z0-9]{6}$/, '') : id;
    const versions = secrets.get(name);
    const version = versions?.find((v) =>
      versionId !== undefined ? v.id === versionId : v.stages.includes(stage ?? 'AWSCURRENT'),
    );
    if (version === undefined) return undefined;
    return {
      ARN: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-AbCdEf`,
      Name: name,
      VersionId: version.id,
      ...(version.string !== undefined && { SecretString: version.string }),
      ...(version.binary !== undefined && { SecretBinary: version.binary.toString('base64') }),
      VersionStages: version.stages,
      CreatedDate: 1_700_000_000,
    };
  }

  private getSecretValue(region: string, body: Record<string, unknown>): HttpResponse {
    const found = this.findSecret(region, String(body.SecretId), body.VersionId as string | undefined, body.VersionStage as string | undefined);
    if (found === undefined) {
      return jsonFault({ status: 400, type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    }
    return json(found);
  }

  private batchGetSecretValue(region: string, body: Record<string, unknown>): HttpResponse {
    if (body.Filters !== undefined) return this.filteredSecrets(region, body);
    const ids = body.SecretIdList as string[];
    const SecretValues = [];
    const Errors = [];
    for (const id of ids) {
      const found = this.findSecret(region, id);
      if (found !== undefined) SecretValues.push(found);
      else Errors.push({ SecretId: id, ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." });
    }
    return json({ SecretValues, Errors });
  }

  /** A `name` filter, as AWS applies it: a prefix, whatever the case; pages of MaxResults. */
  private filteredSecrets(region: string, body: Record<string, unknown>): HttpResponse {
    const [filter] = body.Filters as { Key: string; Values: string[] }[];
    const prefix = (filter?.Values[0] ?? '').toLowerCase();
    const names = [...(this.secrets.get(region)?.keys() ?? [])].filter((name) => name.toLowerCase().startsWith(prefix));
    const { items, NextToken } = page(names, body);
    return json({ SecretValues: items.map((name) => this.findSecret(region, name)), Errors: [], ...(NextToken && { NextToken }) });
  }

  /** Every secret of the region with its tags, pages of MaxResults (AWS narrows by Filters; the caller decides). */
  private listSecrets(region: string, body: Record<string, unknown>): HttpResponse {
    const { items, NextToken } = page([...(this.secrets.get(region)?.keys() ?? [])], body);
    const SecretList = items.map((Name) => ({
      ARN: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${Name}-AbCdEf`,
      Name,
      Tags: Object.entries(this.tags.get(region)?.get(Name) ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }));
    return json({ SecretList, ...(NextToken && { NextToken }) });
  }

  private getParametersByPath(region: string, body: Record<string, unknown>): HttpResponse {
    const path = String(body.Path);
    const below = path === '/' ? '/' : `${path}/`;
    const names = [...(this.parameters.get(region)?.keys() ?? [])].filter(
      (name) => name.startsWith(below) && (body.Recursive === true || !name.slice(below.length).includes('/')),
    );
    const { items, NextToken } = page(names, body);
    const Parameters = items.map((Name) => {
      const latest = this.parameters.get(region)?.get(Name)?.at(-1);
      return { Name, Type: 'SecureString', Value: latest?.value, Version: latest?.version, DataType: 'text' };
    });
    return json({ Parameters, ...(NextToken && { NextToken }) });
  }

  private getParameters(region: string, body: Record<string, unknown>): HttpResponse {
    const Parameters = [];
    const InvalidParameters = [];
    for (const selector of body.Names as string[]) {
      const [name = '', pin] = selector.split(':');
      const versions = this.parameters.get(region)?.get(name) ?? [];
      const found =
        pin === undefined
          ? versions.at(-1)
          : versions.find((v) => (/^\d+$/.test(pin) ? v.version === Number(pin) : v.labels.includes(pin)));
      if (found === undefined) InvalidParameters.push(selector);
      else {
        Parameters.push({
          Name: name,
          Type: 'SecureString',
          Value: found.value,
          Version: found.version,
          ARN: `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name}`,
          DataType: 'text',
        });
      }
    }
    return json({ Parameters, InvalidParameters });
  }
}

/** One page of a listing: MaxResults items from the NextToken (an index) on. */
function page<T>(all: readonly T[], body: Record<string, unknown>): { items: T[]; NextToken?: string } {
  const start = Number(body.NextToken ?? 0);
  const end = start + Number(body.MaxResults ?? 10);
  return { items: all.slice(start, end), ...(end < all.length && { NextToken: String(end) }) };
}

function waitForAbort(signal: { aborted: boolean } | undefined, reject: (err: Error) => void): void {
  const abortError = () => Object.assign(new Error('Request aborted'), { name: 'AbortError' });
  const target = signal as (EventTarget & { aborted: boolean }) | undefined;
  if (target === undefined) return;
  if (target.aborted) reject(abortError());
  else target.addEventListener('abort', () => reject(abortError()), { once: true });
}

function bodyText(request: HttpRequest): string {
  const body: unknown = request.body;
  return body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body ?? '');
}

function response(status: number, contentType: string, body: string, headers: Record<string, string> = {}): HttpResponse {
  const bytes = Buffer.from(body);
  return {
    statusCode: status,
    headers: { 'content-type': contentType, 'content-length': String(bytes.length), ...headers },
    body: Readable.from([bytes]),
  };
}

function json(body: unknown): HttpResponse {
  return response(200, 'application/x-amz-json-1.1', JSON.stringify(body));
}

function jsonFault({ status, type, message = type }: AwsFault): HttpResponse {
  return response(status, 'application/x-amz-json-1.1', JSON.stringify({ __type: type, message }), { 'x-amzn-errortype': type });
}

function xmlFault({ status, type, message = type }: AwsFault): HttpResponse {
  return response(
    status,
    'text/xml',
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
      `<Code>${type}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
}

function stsCredentials(action: string): HttpResponse {
  const expiration = new Date(Date.now() + 3_600_000).toISOString();
  return response(
    200,
    'text/xml',
    `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result><Credentials>` +
      `<AccessKeyId>ASIA${randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase()}</AccessKeyId>` +
      '<SecretAccessKey>in-process</SecretAccessKey><SessionToken>in-process</SessionToken>' +
      `<Expiration>${expiration}</Expiration></Credentials></${action}Result>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

export interface ServiceAccountSpec {
  roleArn?: string;
}

/** The Kubernetes reads: ServiceAccounts, Pods, Nodes and the service account issuer, whose key signs tokens here. */
export class InProcessCluster {
  readonly serviceAccounts = new Map<string, ServiceAccountSpec>();
  /** Pod (namespace/name) to its node's name. */
  readonly pods = new Map<string, string>();
  readonly nodes = new Map<string, Record<string, string>>();
  /** A read fails with this HTTP status (client-node's ApiException carries it as `code`). */
  failWith: number | undefined;
  private readonly key = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  readonly coreApi: CoreApi = {
    readNamespacedServiceAccount: ({ namespace, name }) => {
      const found = this.serviceAccounts.get(`${namespace}/${name}`);
      if (found === undefined) return this.fail(404);
      const annotations: Record<string, string> = found.roleArn === undefined ? {} : { 'eks.amazonaws.com/role-arn': found.roleArn };
      return this.answer({ metadata: { namespace, name, annotations } });
    },
    readNamespacedPod: ({ namespace, name }) => {
      const node = this.pods.get(`${namespace}/${name}`);
      if (node === undefined) return this.fail(404);
      return this.answer({ metadata: { namespace, name, uid: 'uid' }, spec: { nodeName: node, containers: [] } });
    },
    readNode: ({ name }) => {
      const labels = this.nodes.get(name);
      return labels === undefined ? this.fail(404) : this.answer({ metadata: { name, labels } });
    },
    getCode: () => this.answer({ major: '1', minor: '34', gitVersion: 'v1.34.0' } as never),
    readOpenIdConfiguration: () => this.answer({ issuer: ISSUER, jwks_uri: `${ISSUER}/openid/v1/jwks` }),
    readOpenIdKeys: () =>
      this.answer({ keys: [{ ...this.key.publicKey.export({ format: 'jwk' }), kid: 'in-process', use: 'sig', alg: 'ES256' }] }),
  };

  /** A token of the issuer for the service account, as the kubelet hands the driver; `signer` forges one. */
  token(namespace: string, serviceAccount: string, audience: string, signer = this.key.privateKey): string {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const claims = { iss: ISSUER, aud: [audience], sub: `system:serviceaccount:${namespace}:${serviceAccount}`, exp, iat: exp - 3600 };
    const signingInput = [{ alg: 'ES256', kid: 'in-process' }, claims]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .join('.');
    const signature = sign('sha256', Buffer.from(signingInput), { key: signer, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  private answer<T>(value: T): Promise<T> {
    return this.failWith === undefined ? Promise.resolve(value) : this.fail(this.failWith);
  }

  private fail(code: number): Promise<never> {
    return Promise.reject(Object.assign(new Error(`HTTP-Code: ${code}`), { code }));
  }
}

/** The EKS Pod Identity agent: credentials for a token, or the answer a case sets. */
export class InProcessPodIdentityAgent {
  readonly calls: string[] = [];
  answer: { status: number; body: unknown } | 'unreachable' = {
    status: 200,
    body: {
      AccessKeyId: 'ASIAPODIDENTITY00000',
      SecretAccessKey: 'in-process',
      Token: 'in-process',
      AccountId: ACCOUNT,
      Expiration: new Date(Date.now() + 3_600_000).toISOString(),
    },
  };

  readonly fetch: typeof fetch = (input) => {
    this.calls.push(String(input));
    const answer = this.answer;
    if (answer === 'unreachable') {
      return Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }));
    }
    return Promise.resolve(new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } }));
  };
}
