import { status } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createSecret } from '../../harness/moto.js';
import { POD_IDENTITY_AUDIENCE, useMountEnvironment } from '../../harness/mountEnvironment.js';
import { closedUrl, usePodIdentityAgent } from '../../harness/podIdentityAgent.js';
import { tokenFor } from './support.js';

const REGION = 'eu-central-1';
const objects = [{ objectName: 'pi-secret', objectType: 'secretsmanager' }];
const podIdentity = (preferredAddressType: 'ipv4' | 'ipv6' | 'auto') => ({
  usePodIdentity: 'true',
  preferredAddressType,
});

const agent = usePodIdentityAgent();

describe('Pod Identity agent on 127.0.0.1 and [::1]', () => {
  const env = useMountEnvironment({
    providerEnv: { AWS_REGION: REGION },
    providerArgs: () => [
      `--pod-identity-endpoint-ipv4=${agent.ipv4Url}`,
      `--pod-identity-endpoint-ipv6=${agent.ipv6Url}`,
      '--pod-identity-http-timeout=2s',
    ],
  });

  it("ipv4: asks the IPv4 agent with the pod's pods.eks.amazonaws.com token and fetches with its credentials", async () => {
    await createSecret(REGION, 'pi-secret', 'from-pod-identity');
    const who = await env.pod('pi-v4', { roleArn: null });

    const response = await env.mount(who, { objects, parameters: podIdentity('ipv4') });

    expect(response.files[0]?.contents.toString()).toBe('from-pod-identity');
    expect(agent.requests.map((r) => r.family)).toEqual(['IPv4']);
    expect(agent.requests[0]!.path).toBe('/v1/credentials');
    expect(agent.requests[0]!.authorization).toBe(tokenFor(who.tokens, POD_IDENTITY_AUDIENCE));
    const fetches = env.proxy.records.filter((r) => r.service === 'secretsmanager');
    expect(fetches.map((r) => r.accessKeyId)).toEqual([agent.requests[0]!.issuedAccessKeyId]);
    // Pod Identity needs no STS call of ours: the agent's credentials are the pod's.
    expect(env.proxy.records.filter((r) => r.service === 'sts')).toHaveLength(0);
  });

  it('ipv6: asks only the IPv6 agent', async () => {
    await createSecret(REGION, 'pi-secret', 'v6');
    const who = await env.pod('pi-v6', { roleArn: null });

    const response = await env.mount(who, { objects, parameters: podIdentity('ipv6') });

    expect(response.files[0]?.contents.toString()).toBe('v6');
    expect(agent.requests.map((r) => r.family)).toEqual(['IPv6']);
    expect(agent.requests[0]!.authorization).toBe(tokenFor(who.tokens, POD_IDENTITY_AUDIENCE));
  });

  it('a preferredAddressType ASCP does not know is auto, as there, with a warning in the log', async () => {
    await createSecret(REGION, 'pi-secret', 'unknown-type');
    const who = await env.pod('pi-unknown-type', { roleArn: null });

    const response = await env.mount(who, { objects, parameters: { usePodIdentity: 'true', preferredAddressType: 'dualstack' } });

    expect(response.files[0]?.contents.toString()).toBe('unknown-type');
    expect(agent.requests.map((r) => r.family)).toEqual(['IPv4']);
    // The warning is logged as the Mount ends: its line may reach the pipe a moment after the answer.
    const warning = 'preferredAddressType \\"dualstack\\" is not ipv4, ipv6 or auto; it is taken as auto';
    await vi.waitFor(() => expect(env.provider.output()).toContain(warning), { timeout: 5_000 });
  });

  it('auto (the default): IPv4 answers, so IPv6 is not asked', async () => {
    await createSecret(REGION, 'pi-secret', 'auto');
    const who = await env.pod('pi-auto', { roleArn: null });

    await env.mount(who, { objects, parameters: { usePodIdentity: 'true' } });

    expect(agent.requests.map((r) => r.family)).toEqual(['IPv4']);
  });

  it('a repeat Mount of the service account asks the agent no more', async () => {
    await createSecret(REGION, 'pi-secret', 'cached');
    const who = await env.pod('pi-repeat', { roleArn: null });

    await env.mount(who, { objects, parameters: podIdentity('auto') });
    await env.mount(who, { objects, parameters: podIdentity('auto') });

    expect(agent.requests).toHaveLength(1);
    const keys = env.proxy.records.filter((r) => r.service === 'secretsmanager').map((r) => r.accessKeyId);
    expect(keys).toEqual([agent.requests[0]!.issuedAccessKeyId, agent.requests[0]!.issuedAccessKeyId]);
  });

  it('agent refusing (403): PERMISSION_DENIED with its status and error code (never its body), IPv6 not tried, nothing fetched', async () => {
    await createSecret(REGION, 'pi-secret', 'v');
    const who = await env.pod('pi-refused', { roleArn: null });
    agent.behave({
      kind: 'status',
      status: 403,
      body: '{"__type":"AccessDeniedException","message":"no Pod Identity association for this service account"}',
    });

    const failure = env.mount(who, { objects, parameters: podIdentity('auto') });

    await expect(failure).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(failure).rejects.toThrow(/CredentialsRefused/);
    await expect(failure).rejects.toThrow(/refused .*\(HTTP 403, AccessDeniedException\)\. Check that a Pod Identity association exists/);
    await expect(failure).rejects.not.toThrow(/no Pod Identity association for this service account/);
    await expect(failure).rejects.toThrow(agent.ipv4Url);
    expect(agent.requests.map((r) => r.family)).toEqual(['IPv4']);
    expect(env.proxy.records.filter((r) => r.service === 'secretsmanager')).toHaveLength(0);
  });

  it('agent failing (500): UNAVAILABLE with its status, not its body', async () => {
    const who = await env.pod('pi-500', { roleArn: null });
    agent.behave({ kind: 'status', status: 500, body: 'EKS Auth unavailable' });

    const failure = env.mount(who, { objects, parameters: podIdentity('ipv4') });

    await expect(failure).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(failure).rejects.toThrow(/failed for .*\(HTTP 500\)\. The agent or EKS Auth is failing/);
  });

  it('a refusal is not cached: the next Mount asks the agent again', async () => {
    await createSecret(REGION, 'pi-secret', 'second-time');
    const who = await env.pod('pi-retry', { roleArn: null });
    agent.behave({ kind: 'status', status: 403, body: 'not yet' });
    await expect(env.mount(who, { objects, parameters: podIdentity('ipv4') })).rejects.toThrow(/CredentialsRefused/);

    agent.behave({ kind: 'credentials' });
    const response = await env.mount(who, { objects, parameters: podIdentity('ipv4') });

    expect(response.files[0]?.contents.toString()).toBe('second-time');
    expect(agent.requests).toHaveLength(2);
  });

  it('agent slower than --pod-identity-http-timeout: UNAVAILABLE saying it timed out, naming the address', async () => {
    const who = await env.pod('pi-slow', { roleArn: null });
    agent.behave({ kind: 'delay', ms: 8_000 });

    const failure = env.mount(who, { objects, parameters: podIdentity('ipv4') });

    await expect(failure).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(failure).rejects.toThrow(/CredentialsUnavailable/);
    await expect(failure).rejects.toThrow(`IPv4 ${agent.ipv4Url}: timed out after 2000 ms (--pod-identity-http-timeout)`);
    expect(agent.requests).toHaveLength(1);
  });

  it('auto: an agent that times out on IPv4 is asked on IPv6', async () => {
    const who = await env.pod('pi-slow-auto', { roleArn: null });
    agent.behave({ kind: 'delay', ms: 8_000 });

    const failure = env.mount(who, { objects, parameters: podIdentity('auto') });

    await expect(failure).rejects.toThrow(`IPv4 ${agent.ipv4Url}: timed out after 2000 ms`);
    await expect(failure).rejects.toThrow(`IPv6 ${agent.ipv6Url}: timed out after 2000 ms`);
    expect(agent.requests.map((r) => r.family)).toEqual(['IPv4', 'IPv6']);
  });

  it('no pods.eks.amazonaws.com token: INVALID_ARGUMENT naming the audience, agent not asked', async () => {
    const who = await env.pod('pi-no-token', { roleArn: null });
    const onlyIrsa = JSON.stringify({ 'sts.amazonaws.com': JSON.parse(who.tokens)['sts.amazonaws.com'] });

    const failure = env.mount(who, { objects, parameters: podIdentity('auto'), tokens: onlyIrsa });

    await expect(failure).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(failure).rejects.toThrow(/pods\.eks\.amazonaws\.com.*tokenRequests/);
    expect(agent.requests).toHaveLength(0);
  });
});

describe('Pod Identity with IPv4 unreachable', () => {
  let closedIpv4 = '';
  beforeAll(async () => {
    closedIpv4 = await closedUrl('127.0.0.1');
  });
  const env = useMountEnvironment({
    providerEnv: { AWS_REGION: REGION },
    providerArgs: () => [`--pod-identity-endpoint-ipv4=${closedIpv4}`, `--pod-identity-endpoint-ipv6=${agent.ipv6Url}`],
  });

  it('auto falls back to the IPv6 agent and mounts (ASCP does not)', async () => {
    await createSecret(REGION, 'pi-secret', 'over-ipv6');
    const who = await env.pod('pi-fallback', { roleArn: null });

    const response = await env.mount(who, { objects, parameters: podIdentity('auto') });

    expect(response.files[0]?.contents.toString()).toBe('over-ipv6');
    expect(agent.requests.map((r) => r.family)).toEqual(['IPv6']);
    expect(agent.requests[0]!.authorization).toBe(tokenFor(who.tokens, POD_IDENTITY_AUDIENCE));
  });

  it('ipv4: UNAVAILABLE naming the IPv4 address and why, and suggesting auto', async () => {
    const who = await env.pod('pi-v4-only', { roleArn: null });

    const failure = env.mount(who, { objects, parameters: podIdentity('ipv4') });

    await expect(failure).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(failure).rejects.toThrow(`IPv4 ${closedIpv4}: connection refused (ECONNREFUSED)`);
    await expect(failure).rejects.toThrow(/set preferredAddressType to auto/);
    expect(agent.requests).toHaveLength(0);
  });
});

describe('Pod Identity agent down on both addresses', () => {
  let closed = { ipv4: '', ipv6: '' };
  beforeAll(async () => {
    closed = { ipv4: await closedUrl('127.0.0.1'), ipv6: await closedUrl('::1') };
  });
  const env = useMountEnvironment({
    providerEnv: { AWS_REGION: REGION },
    providerArgs: () => [`--pod-identity-endpoint-ipv4=${closed.ipv4}`, `--pod-identity-endpoint-ipv6=${closed.ipv6}`],
  });

  it('auto: UNAVAILABLE naming both addresses and why each failed, nothing fetched', async () => {
    const who = await env.pod('pi-down', { roleArn: null });

    const failure = env.mount(who, { objects, parameters: podIdentity('auto') });

    await expect(failure).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(failure).rejects.toThrow(/CredentialsUnavailable/);
    await expect(failure).rejects.toThrow(`IPv4 ${closed.ipv4}: connection refused (ECONNREFUSED)`);
    await expect(failure).rejects.toThrow(`IPv6 ${closed.ipv6}: connection refused (ECONNREFUSED)`);
    await expect(failure).rejects.toThrow(/eks-pod-identity-agent/);
    expect(env.proxy.records).toHaveLength(0);
  });
});
