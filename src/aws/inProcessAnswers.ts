/**
 * An SDK request handler that answers in the process and never opens a socket: each call the priming's made-up Mount
 * makes gets a well-formed answer in its service's wire format, built from the request. Only for priming (src/mount/prime.ts),
 * which runs the SDK's whole send path (endpoint rules, serialization, signing, retries, the body collector, parsing)
 * once at start, so that the first real Mount does not compile it. Any other call is refused by name, so a change to
 * the calls that Mount makes shows up in the priming's log line instead of going unprimed unnoticed.
 */
import { Readable } from 'node:stream';
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from '@smithy/types';

/** Where the made-up ARNs point; nothing is ever sent there. */
const ARN_SCOPE = 'us-east-1:111122223333';

export type InProcessHandler = RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> & {
  /** The SDK's client config calls these on a handler it was given. */
  updateHttpClientConfig(key: never, value: never): void;
  httpHandlerConfigs(): Record<string, never>;
};

export function inProcessAnswers(): InProcessHandler {
  return {
    handle: (request) => Promise.resolve({ response: answer(request) }),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
}

function answer(request: HttpRequest): HttpResponse {
  const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'];
  if (target === 'secretsmanager.BatchGetSecretValue') {
    const { SecretIdList } = jsonBody<{ SecretIdList: string[] }>(request);
    return json({ SecretValues: SecretIdList.map((id) => secretValue(id)), Errors: [] });
  }
  if (target === 'secretsmanager.GetSecretValue') {
    const { SecretId, VersionId } = jsonBody<{ SecretId: string; VersionId?: string }>(request);
    return json(secretValue(SecretId, VersionId));
  }
  if (target === 'AmazonSSM.GetParameters') {
    const { Names } = jsonBody<{ Names: string[] }>(request);
    return json({ Parameters: Names.map((name) => parameter(name)), InvalidParameters: [] });
  }
  const action = target ?? new URLSearchParams(bodyText(request)).get('Action');
  if (action === 'AssumeRoleWithWebIdentity') return stsCredentials(action);
  throw new Error(`no in-process answer for ${action ?? `${request.method} ${request.hostname}${request.path}`}`);
}

function jsonBody<T>(request: HttpRequest): T {
  return JSON.parse(bodyText(request)) as T;
}

/** The SDK sends a JSON body as bytes, a query (STS) body as a string. */
function bodyText(request: HttpRequest): string {
  const body: unknown = request.body;
  return body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body ?? '');
}

function secretValue(name: string, versionId = '00000000-0000-4000-8000-000000000000') {
  return {
    ARN: `arn:aws:secretsmanager:${ARN_SCOPE}:secret:${name}-AbCdEf`,
    Name: name,
    VersionId: versionId,
    SecretString: JSON.stringify({ username: 'priming', password: 'priming' }),
    VersionStages: ['AWSCURRENT'],
    CreatedDate: 1_700_000_000,
  };
}

function parameter(name: string) {
  return {
    Name: name,
    Type: 'SecureString',
    Value: 'priming',
    Version: 1,
    ARN: `arn:aws:ssm:${ARN_SCOPE}:parameter${name}`,
    DataType: 'text',
    LastModifiedDate: 1_700_000_000,
  };
}

function stsCredentials(action: string): HttpResponse {
  const expiration = new Date(Date.now() + 3_600_000).toISOString();
  return response(
    'text/xml',
    `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result><Credentials>` +
      '<AccessKeyId>ASIAPRIMING000000000</AccessKeyId><SecretAccessKey>priming</SecretAccessKey>' +
      `<SessionToken>priming</SessionToken><Expiration>${expiration}</Expiration></Credentials></${action}Result>` +
      `<ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></${action}Response>`,
  );
}

function json(body: unknown): HttpResponse {
  return response('application/x-amz-json-1.1', JSON.stringify(body));
}

/** A body stream like the network handler's, so the SDK's stream collector runs as it will for real. */
function response(contentType: string, body: string): HttpResponse {
  const bytes = Buffer.from(body);
  return {
    statusCode: 200,
    headers: { 'content-type': contentType, 'content-length': String(bytes.length) },
    body: Readable.from([bytes]),
  };
}
