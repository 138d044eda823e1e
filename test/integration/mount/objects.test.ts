import { describe, expect, it } from 'vitest';
import { createSecret, labelParameterVersion, putParameter, putSecretValue } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import type { MountResponseMessage } from '../../../src/server/proto.js';

const REGION = 'eu-west-1';
const env = useMountEnvironment({ providerEnv: { AWS_REGION: REGION } });

function file(response: MountResponseMessage, path: string) {
  const found = response.files.find((f) => f.path === path);
  if (!found) throw new Error(`no file ${path} in ${response.files.map((f) => f.path).join(', ')}`);
  return found;
}

function version(response: MountResponseMessage, id: string): string | undefined {
  return response.objectVersion.find((v) => v.id === id)?.version;
}

describe('SSM Parameter Store objects', () => {
  it('mounts a parameter by name, with an alias, a SecureString, and a pinned version and label', async () => {
    await putParameter(REGION, 'plain', 'plain-value');
    await putParameter(REGION, '/app/aliased', 'aliased-value');
    await putParameter(REGION, 'secure', 'secure-value', 'SecureString');
    const v1 = await putParameter(REGION, 'versioned', 'version-one');
    await putParameter(REGION, 'versioned', 'version-two', 'String', true);
    await labelParameterVersion(REGION, 'versioned', v1, ['stable']);
    const who = await env.pod('ssm');

    const response = await env.mount(who, {
      objects: [
        { objectName: 'plain', objectType: 'ssmparameter' },
        { objectName: '/app/aliased', objectType: 'ssmparameter', objectAlias: 'aliased.txt' },
        { objectName: 'secure', objectType: 'ssmparameter' },
        { objectName: 'versioned', objectType: 'ssmparameter', objectVersion: String(v1), objectAlias: 'by-version' },
        { objectName: 'versioned', objectType: 'ssmparameter', objectVersionLabel: 'stable', objectAlias: 'by-label' },
        { objectName: 'versioned', objectType: 'ssmparameter', objectAlias: 'latest' },
      ],
    });

    expect(file(response, 'plain').contents.toString()).toBe('plain-value');
    expect(file(response, 'aliased.txt').contents.toString()).toBe('aliased-value');
    expect(file(response, 'secure').contents.toString()).toBe('secure-value');
    expect(file(response, 'by-version').contents.toString()).toBe('version-one');
    expect(file(response, 'by-label').contents.toString()).toBe('version-one');
    expect(file(response, 'latest').contents.toString()).toBe('version-two');
    expect(version(response, 'by-version')).toBe(String(v1));
    expect(version(response, 'by-label')).toBe(String(v1));
    expect(version(response, 'latest')).toBe(String(v1 + 1));
  });

  it('translates "/" in a parameter name into the file name, and keeps it with pathTranslation False', async () => {
    await putParameter(REGION, '/team/db/url', 'postgres://db');
    const who = await env.pod('ssm-paths');
    const objects = [{ objectName: '/team/db/url', objectType: 'ssmparameter' }];

    const translated = await env.mount(who, { objects });
    expect(translated.files.map((f) => f.path)).toEqual(['_team_db_url']);

    const dashed = await env.mount(who, { objects, parameters: { pathTranslation: '-' } });
    expect(dashed.files.map((f) => f.path)).toEqual(['-team-db-url']);

    // Off: the name forms directories below the mount, its leading "/" dropped as ASCP does.
    const nested = await env.mount(who, { objects, parameters: { pathTranslation: 'False' } });
    expect(nested.files.map((f) => f.path)).toEqual(['team/db/url']);
    expect(nested.objectVersion.map((v) => v.id)).toEqual(['team/db/url']);
  });
});

describe('Secrets Manager objects', () => {
  it('mounts by name, by ARN, by VersionId and by VersionStage, and a binary secret byte for byte', async () => {
    const named = await createSecret(REGION, 'named', 'named-value');
    const byArn = await createSecret(REGION, 'by-arn', 'arn-value');
    const first = await createSecret(REGION, 'rotating', 'old-value');
    const second = await putSecretValue(REGION, 'rotating', 'new-value');
    await putSecretValue(REGION, 'rotating', 'pending-value', ['AWSPENDING']);
    const bytes = Uint8Array.from([0, 1, 2, 250, 255, 10, 13]);
    await createSecret(REGION, 'binary', bytes);
    const who = await env.pod('sm');

    const response = await env.mount(who, {
      objects: [
        { objectName: 'named', objectType: 'secretsmanager' },
        { objectName: byArn.arn, objectAlias: 'by-arn' },
        { objectName: 'rotating', objectType: 'secretsmanager', objectVersion: first.versionId, objectAlias: 'old' },
        { objectName: 'rotating', objectType: 'secretsmanager', objectVersionLabel: 'AWSPENDING', objectAlias: 'pending' },
        { objectName: 'rotating', objectType: 'secretsmanager', objectAlias: 'current' },
        { objectName: 'binary', objectType: 'secretsmanager', filePermission: '0600' },
      ],
    });

    expect(file(response, 'named').contents.toString()).toBe('named-value');
    expect(file(response, 'by-arn').contents.toString()).toBe('arn-value');
    expect(file(response, 'old').contents.toString()).toBe('old-value');
    expect(file(response, 'pending').contents.toString()).toBe('pending-value');
    expect(file(response, 'current').contents.toString()).toBe('new-value');
    expect(Uint8Array.from(file(response, 'binary').contents)).toEqual(bytes);
    expect(file(response, 'binary').mode).toBe(0o600);
    expect(file(response, 'named').mode).toBe(0o644);
    expect(version(response, 'named')).toBe(named.versionId);
    expect(version(response, 'old')).toBe(first.versionId);
    expect(version(response, 'current')).toBe(second.versionId);
  });

  it('uses the request permission for files without filePermission', async () => {
    await createSecret(REGION, 'perm', 'x');
    const who = await env.pod('perm');
    const response = await env.mount(who, {
      objects: [{ objectName: 'perm', objectType: 'secretsmanager' }],
      permission: String(0o440),
    });
    expect(file(response, 'perm').mode).toBe(0o440);
  });
});

describe('AWS calls per mount', () => {
  it('mounts 20 secrets and 20 parameters with at most 3 Secrets Manager/SSM calls and one STS call', async () => {
    for (let i = 0; i < 20; i++) {
      await createSecret(REGION, `bulk-secret-${i}`, `secret-${i}`);
      await putParameter(REGION, `bulk-param-${i}`, `param-${i}`);
    }
    const who = await env.pod('bulk');
    const objects = Array.from({ length: 20 }, (_, i) => [
      { objectName: `bulk-secret-${i}`, objectType: 'secretsmanager' },
      { objectName: `bulk-param-${i}`, objectType: 'ssmparameter' },
    ]).flat();

    const response = await env.mount(who, { objects });

    expect(response.files).toHaveLength(40);
    expect(file(response, 'bulk-secret-7').contents.toString()).toBe('secret-7');
    expect(file(response, 'bulk-param-13').contents.toString()).toBe('param-13');
    const calls = env.proxy.records.map((r) => `${r.service}:${r.action}`);
    const fetches = calls.filter((c) => !c.startsWith('sts:'));
    expect(fetches.length).toBeLessThanOrEqual(3);
    expect(fetches.filter((c) => c === 'secretsmanager:BatchGetSecretValue')).toHaveLength(1);
    expect(fetches.filter((c) => c === 'ssm:GetParameters')).toHaveLength(2);
    expect(calls.filter((c) => c === 'sts:AssumeRoleWithWebIdentity')).toHaveLength(1);
  });
});
