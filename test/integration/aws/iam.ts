import { onTestFinished } from 'vitest';
import { usePeers } from '../../harness/peers.js';
import type { AwsIdentity } from '../../../src/aws/types.js';

/**
 * moto's own IAM, for the tests that need AWS to refuse a call: a user with an inline policy, then moto's
 * enforcement switched on (`/moto-api/reset-auth`) until the test ends. moto checks each call's SigV4
 * signature against the user's key and evaluates the policy itself; nothing is faked here.
 */
export async function actAsUserWith(allowedActions: string[]): Promise<AwsIdentity> {
  await iam({ Action: 'CreateUser', UserName: 'pod-role' });
  const key = await iam({ Action: 'CreateAccessKey', UserName: 'pod-role' });
  await iam({
    Action: 'PutUserPolicy',
    UserName: 'pod-role',
    PolicyName: 'pod-policy',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: allowedActions, Resource: '*' }],
    }),
  });
  await setEnforcement('0');
  onTestFinished(() => setEnforcement('inf'));
  return {
    key: `iam-user/${allowedActions.join(',')}`,
    credentials: {
      accessKeyId: field(key, 'AccessKeyId'),
      secretAccessKey: field(key, 'SecretAccessKey'),
    },
  };
}

/** moto routes an IAM query call by the service in the credential scope; before enforcement it checks no signature. */
async function iam(params: Record<string, string>): Promise<string> {
  const res = await fetch(`${usePeers().motoUrl}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto IAM ${params.Action} answered HTTP ${res.status}: ${text}`);
  return text;
}

/** The number of calls moto serves before it enforces IAM: '0' enforces now, 'inf' never (its default). */
async function setEnforcement(count: '0' | 'inf'): Promise<void> {
  const res = await fetch(`${usePeers().motoUrl}/moto-api/reset-auth`, { method: 'POST', body: count });
  if (!res.ok) throw new Error(`moto reset-auth answered HTTP ${res.status}: ${await res.text()}`);
}

function field(xml: string, name: string): string {
  const value = new RegExp(`<${name}>([^<]+)</${name}>`).exec(xml)?.[1];
  if (value === undefined) throw new Error(`moto IAM answer without ${name}: ${xml}`);
  return value;
}
