import { usePeers } from '../../harness/peers.js';

export function tokenFor(tokens: string, audience: string): string {
  return (JSON.parse(tokens) as Record<string, { token: string }>)[audience]!.token;
}

interface MotoAssumedRole {
  access_key_id: string;
  role_arn: string;
  session_name: string;
  external_id: string | null;
}

/**
 * The access key ids moto's STS issued for a role (AssumeRole and AssumeRoleWithWebIdentity both record one),
 * read from moto's own state: what the proxy saw being signed can then be matched to the call that issued it.
 */
export async function issuedAccessKeys(roleArn: string): Promise<string[]> {
  const res = await fetch(`${usePeers().motoUrl}/moto-api/data.json`);
  if (!res.ok) throw new Error(`moto /moto-api/data.json answered HTTP ${res.status}`);
  const data = (await res.json()) as { sts?: { AssumedRole?: MotoAssumedRole[] } };
  return (data.sts?.AssumedRole ?? []).filter((role) => role.role_arn === roleArn).map((role) => role.access_key_id);
}
