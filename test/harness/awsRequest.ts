import type { IncomingHttpHeaders } from 'node:http';

/** What an AWS SDK request says about itself: enough to record it and to aim a fault at it. */
export interface AwsCall {
  /** `secretsmanager`, `ssm`, `sts`, … */
  service: string | undefined;
  /** `BatchGetSecretValue`, `GetParameters`, `AssumeRoleWithWebIdentity`, … */
  action: string | undefined;
  /** From the SigV4 credential scope; unsigned calls (AssumeRoleWithWebIdentity) have none. */
  region: string | undefined;
  accessKeyId: string | undefined;
  /** The x-amz-security-token header: the STS session token a call is signed with. */
  sessionToken: string | undefined;
  protocol: 'json' | 'query' | undefined;
  /** The User-Agent header, where the SDK writes the app id as `app/<id>`. */
  userAgent: string | undefined;
  /** The JSON body, or the form fields of a query-protocol call. */
  body: Record<string, unknown> | undefined;
}

// X-Amz-Target prefixes are the services' internal names; records use the SigV4 signing names.
const targetPrefixes: Record<string, string> = { secretsmanager: 'secretsmanager', AmazonSSM: 'ssm' };
// An unsigned query call names no service; its API version does.
const queryApiVersions: Record<string, string> = { '2011-06-15': 'sts' };

export function parseAwsCall(headers: IncomingHttpHeaders, rawBody: Buffer): AwsCall {
  const scope = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
    String(headers.authorization ?? ''),
  );
  const call: AwsCall = {
    service: scope?.[3],
    action: undefined,
    region: scope?.[2],
    accessKeyId: scope?.[1],
    sessionToken: typeof headers['x-amz-security-token'] === 'string' ? headers['x-amz-security-token'] : undefined,
    protocol: undefined,
    userAgent: typeof headers['user-agent'] === 'string' ? headers['user-agent'] : undefined,
    body: undefined,
  };
  const target = headers['x-amz-target'];
  const contentType = String(headers['content-type'] ?? '');
  if (typeof target === 'string' && target.includes('.')) {
    const [prefix = '', action] = target.split('.', 2);
    call.protocol = 'json';
    call.action = action;
    call.service ??= targetPrefixes[prefix] ?? prefix.toLowerCase();
    call.body = parseJson(rawBody);
  } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = Object.fromEntries(new URLSearchParams(rawBody.toString('utf8')));
    call.protocol = 'query';
    call.action = form.Action;
    call.service ??= form.Version === undefined ? undefined : queryApiVersions[form.Version];
    call.body = form;
  }
  return call;
}

function parseJson(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
