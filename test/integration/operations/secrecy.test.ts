import type * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MountResponseMessage } from '../../../src/server/proto.js';
import type { FaultRule } from '../../harness/faultProxy.js';
import { createSecret, putParameter } from '../../harness/moto.js';
import { useMountEnvironment, type PodIdentityFixture } from '../../harness/mountEnvironment.js';
import { usePeers } from '../../harness/peers.js';
import { metricsText } from './support.js';

const PRIMARY = 'us-east-1';
const FAILOVER = 'us-west-2';
const env = useMountEnvironment({
  providerArgs: ['--log-level=debug', '--mount-timeout=6s', '--aws-request-timeout=10s', '--aws-max-attempts=2'],
  providerEnv: { AWS_REGION: PRIMARY },
});

/** A value no code path could produce by chance: if it shows up anywhere, a secret leaked. */
const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

interface Outcome {
  name: string;
  error?: grpc.ServiceError;
  response?: MountResponseMessage;
}

describe('secrets stay secret: logs, error messages and metrics under every outcome', () => {
  it('no fixture value, service-account token or STS credential appears in any log line, error or metric', async () => {
    const values = {
      plain: secret('plain'),
      jsonPassword: secret('json-password'),
      notJson: secret('not-json'),
      secure: secret('secure-string'),
      binary: secret('binary'),
      failover: secret('failover'),
    };
    const json = JSON.stringify({ username: 'app', password: values.jsonPassword });
    await createSecret(PRIMARY, 'app/plain', values.plain);
    await createSecret(PRIMARY, 'app/json', json);
    await createSecret(PRIMARY, 'app/not-json', values.notJson);
    await createSecret(PRIMARY, 'app/binary', Buffer.from(values.binary));
    await putParameter(PRIMARY, '/app/secure', values.secure, 'SecureString');
    await createSecret(FAILOVER, 'app/plain', values.failover);
    await createSecret(FAILOVER, 'app/json', json);

    const pods: PodIdentityFixture[] = [];
    const pod = async (name: string, options?: Parameters<typeof env.pod>[1]) => {
      const fixture = await env.pod(name, options);
      pods.push(fixture);
      return fixture;
    };
    const who = await pod('secrecy');
    const noRole = await pod('secrecy-no-role', { roleArn: null });
    const everything = [
      { objectName: 'app/plain', objectType: 'secretsmanager' },
      { objectName: 'app/json', objectType: 'secretsmanager', jmesPath: [{ path: 'password', objectAlias: 'pw' }] },
      { objectName: 'app/binary', objectType: 'secretsmanager' },
      { objectName: '/app/secure', objectType: 'ssmparameter' },
    ];
    const outcomes: Outcome[] = [];
    const attempt = async (
      name: string,
      pod: PodIdentityFixture,
      request: Parameters<typeof env.mount>[1],
      faults: FaultRule[] = [],
    ) => {
      env.proxy.clearFaults();
      for (const fault of faults) env.proxy.setFault(fault);
      const outcome: Outcome = await env.mount(pod, request).then(
        (response) => ({ name, response }),
        (error: grpc.ServiceError) => ({ name, error }),
      );
      env.proxy.clearFaults();
      outcomes.push(outcome);
      return outcome;
    };

    const ok = await attempt('every kind of object', who, { objects: everything });
    await attempt('failover', who, { parameters: { failoverRegion: FAILOVER }, objects: [everything[0]!, everything[1]!] }, [
      { region: PRIMARY, kind: 'status', status: 503 },
    ]);
    await attempt('not found', who, { objects: [{ objectName: 'app/missing', objectType: 'secretsmanager' }] });
    await attempt('value not JSON for jmesPath', who, {
      objects: [{ objectName: 'app/not-json', objectType: 'secretsmanager', objectAlias: 'nj', jmesPath: [{ path: 'a', objectAlias: 'a' }] }],
    });
    await attempt('jmesPath finds nothing', who, {
      objects: [{ objectName: 'app/json', objectType: 'secretsmanager', jmesPath: [{ path: 'nothing', objectAlias: 'n' }] }],
    });
    await attempt('answer cut short mid-value', who, { objects: everything }, [{ region: PRIMARY, kind: 'truncate' }]);
    await attempt('region down', who, { objects: everything }, [{ region: PRIMARY, kind: 'status', status: 500 }]);
    await attempt('both regions down', who, { parameters: { failoverRegion: FAILOVER }, objects: [everything[0]!] }, [
      { region: PRIMARY, kind: 'throttle' },
      { region: FAILOVER, kind: 'drop' },
    ]);
    await attempt('deadline', who, { objects: everything }, [{ region: PRIMARY, kind: 'delay', ms: 9000 }]);
    // Pods of their own: credentials already obtained for `who` may be reused without asking STS again.
    await attempt('STS down', await pod('secrecy-sts-down'), { objects: everything }, [{ service: 'sts', kind: 'drop' }]);
    await attempt('STS failing', await pod('secrecy-sts-500'), { objects: everything }, [
      { service: 'sts', kind: 'status', status: 500 },
    ]);
    await attempt('no role annotation', noRole, { objects: everything });
    await attempt('no token for the audience', who, { objects: everything, tokens: '{}' });
    const token = (JSON.parse(who.tokens) as Record<string, { token: string }>)['sts.amazonaws.com']!.token;
    await attempt('tokens attribute malformed around a real token', who, {
      objects: everything,
      tokens: `{"sts.amazonaws.com": "${token}"}`,
    });
    await attempt('tokens attribute not JSON around a real token', who, { objects: everything, tokens: `${token}{` });
    // The real token with its payload edited: its signature no longer matches, and the refusal quotes none of it.
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const edited = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), exp: 4102444800 }));
    await attempt('a real token with an edited payload', who, {
      objects: everything,
      tokens: JSON.stringify({ 'sts.amazonaws.com': { token: `${header}.${edited.toString('base64url')}.${signature}` } }),
    });
    await attempt('bad SecretProviderClass', who, { objects: [{ objectName: 'app/plain', objectType: 'vault' }] });
    await enforceIam(async () => {
      await attempt('access denied', await pod('secrecy-denied', { roleArn: `arn:aws:iam::123456789012:role/${NO_PERMISSIONS}` }), {
        objects: everything,
      });
    });

    // The outcomes cover success, failover and every error class the provider can produce here.
    expect(ok.error?.details).toBeUndefined();
    expect(ok.response?.files.map((f) => f.contents.toString())).toEqual(
      expect.arrayContaining([values.plain, values.jsonPassword, values.binary, values.secure]),
    );
    const codes = new Set(outcomes.map((o) => o.error?.metadata.get('x-provider-error-code')[0]?.toString() ?? 'ok'));
    expect([...codes].sort()).toEqual(
      ['ok', 'ObjectNotFound', 'InvalidObjectValue', 'RegionUnavailable', 'DeadlineExceeded', 'CredentialsUnavailable',
        'MissingRoleAnnotation', 'MissingServiceAccountToken', 'InvalidMountRequest', 'InvalidSecretProviderClass',
        'AccessDenied', 'InvalidServiceAccountToken'].sort(),
    );

    // Everything a secret must never reach.
    const logs = env.provider.output();
    const errors = outcomes.flatMap((o) => (o.error ? [o.error.details, o.error.message, JSON.stringify(o.error.metadata.getMap())] : []));
    const metrics = await metricsText(env.provider.metricsUrl);
    expect(logs.split('\n').filter((l) => l.startsWith('{')).length).toBeGreaterThanOrEqual(outcomes.length);

    const tokens = pods.flatMap((pod) =>
      Object.values(JSON.parse(pod.tokens) as Record<string, { token: string }>).map((t) => t.token),
    );
    const stsAnswers = env.proxy.records.filter((r) => r.service === 'sts' && r.answer).map((r) => r.answer!);
    const stsSecrets = stsAnswers.flatMap((answer) =>
      ['SecretAccessKey', 'SessionToken'].map((field) => new RegExp(`<${field}>([^<]+)</${field}>`).exec(answer)?.[1] ?? ''),
    );
    const sentSessionTokens = env.proxy.records.flatMap((r) => (r.sessionToken ? [r.sessionToken] : []));
    expect(stsSecrets.filter((s) => s !== '').length).toBeGreaterThanOrEqual(2);
    expect(sentSessionTokens.length).toBeGreaterThan(0);
    const forbidden = [...Object.values(values), ...tokens, ...stsSecrets.filter((s) => s !== ''), ...sentSessionTokens];

    for (const [where, text] of [['provider log', logs], ['error messages', errors.join('\n')], ['/metrics', metrics]] as const) {
      const leaked = forbidden.filter((value) => text.includes(value) || text.includes(value.slice(0, 24)));
      expect(leaked, `${where} holds a secret`).toEqual([]);
    }
  });
});

const NO_PERMISSIONS = 'secrecy-no-permissions';

/** moto's IAM enforcement for the calls after the first (the unsigned STS call), with a role allowed nothing. */
async function enforceIam(run: () => Promise<void>): Promise<void> {
  const moto = usePeers().motoUrl;
  const res = await fetch(`${moto}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({
      Action: 'CreateRole',
      Version: '2010-05-08',
      RoleName: NO_PERMISSIONS,
      AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
    }).toString(),
  });
  if (!res.ok) throw new Error(`moto CreateRole answered HTTP ${res.status}`);
  await fetch(`${moto}/moto-api/reset-auth`, { method: 'POST', body: '1' });
  try {
    await run();
  } finally {
    await fetch(`${moto}/moto-api/reset-auth`, { method: 'POST', body: 'inf' });
  }
}
