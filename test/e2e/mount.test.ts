import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCsiEnvironment } from '../harness/csi/environment.js';
import { createSecret, putParameter } from '../harness/moto.js';
import { driverSuiteFiles, seedDriverSuite } from '../fixtures/driverSuite.js';
import { readSpcFixture, withRealArns } from '../fixtures/spcFiles.js';

const env = useCsiEnvironment();

describe('the driver suite SecretProviderClass through the real CSI driver', () => {
  it('mounts SSM by name and by long name with an alias, Secrets Manager by name and by ARN with an alias', async () => {
    const { p1, p2, s1, s2, s3, json } = await seedDriverSuite();
    const spc = readSpcFixture('05-driver-suite-basic.yaml');
    await env.createSpc(spc.name, {
      parameters: { ...spc.parameters, objects: withRealArns(spc.parameters.objects ?? '', { SecretsManagerTest2: s2.arn }) },
    });
    const pod = await env.pod('basic', spc.name);

    await pod.publish();

    expect(pod.mountOfTarget()).toBe('tmpfs');
    const files = pod.files();
    expect(Object.fromEntries(Object.entries(files).map(([path, f]) => [path, f.content]))).toEqual(
      driverSuiteFiles(json),
    );
    // The driver asks for 0644 ("420") and writes the modes we return.
    for (const [path, file] of Object.entries(files)) expect([path, file.mode]).toEqual([path, 0o644]);

    // The host's namespace sees only the empty directory the driver created: the tmpfs stays in the driver's.
    expect(readdirSync(pod.targetPath)).toEqual([]);

    const status = await pod.podStatus();
    expect(status?.status).toMatchObject({
      podName: 'basic',
      secretProviderClassName: spc.name,
      mounted: true,
      targetPath: pod.targetPath,
    });
    // Every object with its version, sorted by id as the driver stores them.
    expect(status?.status.objects).toEqual([
      { id: 'ParameterStoreTest1', version: String(p1) },
      { id: 'ParameterStoreTest2', version: String(p2) },
      { id: 'SecretsManagerJson', version: s3.versionId },
      { id: 'SecretsManagerTest1', version: s1.versionId },
      { id: 'SecretsManagerTest2', version: s2.versionId },
      { id: 'dbuser', version: s3.versionId },
    ]);
    expect(status?.metadata.labels).toMatchObject({ 'internal.secrets-store.csi.k8s.io/node-name': env.driver.nodeId });
    expect(status?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'v1', kind: 'Pod', name: 'basic', uid: pod.uid }),
    ]);

    // The provider assumed the ServiceAccount's role with the token kubelet put in the volume context, which
    // the driver passed on.
    const assumed = env.proxy.records.filter((r) => r.action === 'AssumeRoleWithWebIdentity');
    expect(assumed.length).toBeGreaterThan(0);
    for (const call of assumed) {
      expect(call.roleArn).toBe(`arn:aws:iam::123456789012:role/${pod.options.serviceAccountName}`);
      const claims = JSON.parse(Buffer.from(call.webIdentityToken!.split('.')[1]!, 'base64url').toString()) as {
        aud: string[];
        sub: string;
      };
      expect(claims.aud).toEqual(['sts.amazonaws.com']);
      expect(claims.sub).toBe(`system:serviceaccount:${env.namespace}:${pod.options.serviceAccountName}`);
    }

    await pod.unpublish();
    expect(pod.mountOfTarget()).toBeUndefined();
  });

  it('writes each file with its filePermission, and the request permission for the others', async () => {
    await createSecret('us-west-2', 'app/private-key', 'key-material');
    await putParameter('us-west-2', '/app/config', 'config-text');
    await env.createSpc('modes', {
      parameters: {
        region: 'us-west-2',
        objects: [
          '- objectName: app/private-key',
          '  objectType: secretsmanager',
          '  filePermission: "0400"',
          '- objectName: /app/config',
          '  objectType: ssmparameter',
        ].join('\n'),
      },
    });
    const pod = await env.pod('modes', 'modes');

    await pod.publish();

    const files = pod.files();
    expect(Object.keys(files).sort()).toEqual(['_app_config', 'app_private-key']);
    expect(files['app_private-key']).toMatchObject({ content: 'key-material', mode: 0o400 });
    expect(files._app_config).toMatchObject({ content: 'config-text', mode: 0o644 });
    await pod.unpublish();
  });
});

describe('pathTranslation "False"', () => {
  it('lets names form subdirectories, which the driver writes atomically like flat files', async () => {
    await putParameter('us-west-2', '/app/nested/config', 'nested-config');
    await createSecret('us-west-2', 'app/flat', 'flat-secret');
    await env.createSpc('nested', {
      parameters: {
        region: 'us-west-2',
        pathTranslation: 'False',
        objects: [
          '- {objectName: /app/nested/config, objectType: ssmparameter}',
          '- {objectName: app/flat, objectType: secretsmanager}',
        ].join('\n'),
      },
    });
    const pod = await env.pod('nested', 'nested');

    await pod.publish();

    expect(pod.contents()).toEqual({ 'app/nested/config': 'nested-config', 'app/flat': 'flat-secret' });
    expect((await pod.podStatus())?.status.objects).toEqual([
      { id: 'app/flat', version: expect.any(String) },
      { id: 'app/nested/config', version: '1' },
    ]);
    await pod.unpublish();
  });
});

describe('unpublish', () => {
  it('leaves no mount and no directory behind, in the driver namespace or the host', async () => {
    await createSecret('us-west-2', 'short-lived', 'v');
    await env.createSpc('unpublish', {
      parameters: { region: 'us-west-2', objects: '- {objectName: short-lived, objectType: secretsmanager}' },
    });
    const pod = await env.pod('unpublish', 'unpublish');
    await pod.publish();
    expect(pod.mountOfTarget()).toBe('tmpfs');
    expect(pod.contents()).toEqual({ 'short-lived': 'v' });
    const tmpfsBefore = env.driver.mounts().filter((m) => m.fsType === 'tmpfs').length;

    await pod.unpublish();

    expect(pod.mountOfTarget()).toBeUndefined();
    expect(env.driver.mounts().filter((m) => m.mountPoint.startsWith(env.driver.kubeletDir))).toEqual([]);
    expect(env.driver.mounts().filter((m) => m.fsType === 'tmpfs')).toHaveLength(tmpfsBefore - 1);
    expect(pod.targetExists()).toBe(false);
    expect(existsSync(pod.targetPath)).toBe(false);

    // A second unpublish (kubelet retries) of a path that is gone succeeds.
    await pod.unpublish();
  });
});
