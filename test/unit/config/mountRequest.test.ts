import { describe, expect, it } from 'vitest';
import { parseMountRequest } from '../../../src/config/mountRequest.js';
import { BAD_PARAMETERS, OBJECTS } from './badObjects.js';
import { invalid, mountRequest, parse, POD_ATTRIBUTES } from './request.js';

const TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';
const SECRET_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl';
const tokensJson = (audience = 'sts.amazonaws.com') =>
  JSON.stringify({ [audience]: { token: SECRET_TOKEN, expirationTimestamp: '2030-01-01T00:00:00Z' } });

describe('parseMountRequest: a good request', () => {
  it('reads the pod, the defaults and the objects', () => {
    const config = parse({ objects: OBJECTS });
    expect(config.pod).toEqual({
      name: 'web-0',
      namespace: 'shop',
      uid: '2b1f0c3e-0000-4000-8000-000000000001',
      serviceAccountName: 'web',
    });
    expect(config).toMatchObject({
      tokens: {},
      usePodIdentity: false,
      preferredAddressType: 'auto',
      permission: 0o644,
      targetPath: '/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/secrets/mount',
      warnings: [],
    });
    expect(config.region).toBeUndefined();
    expect(config.failoverRegions).toEqual([]);
    expect(config.objects).toHaveLength(1);
  });

  it('reads failoverRegion as an ordered list: one region, or several separated by commas', () => {
    expect(parse({ objects: OBJECTS, region: 'us-east-1', failoverRegion: 'us-west-2' }).failoverRegions).toEqual(['us-west-2']);
    expect(parse({ objects: OBJECTS, failoverRegion: 'eu-west-1, us-west-2,ap-south-1' }).failoverRegions).toEqual([
      'eu-west-1',
      'us-west-2',
      'ap-south-1',
    ]);
  });

  it.each([
    ['true', 'it is taken as auto (IPv4, then IPv6), as ASCP does'],
    ['false', 'IRSA does not use it, so it is ignored'],
  ])('reads a preferredAddressType ASCP does not know as auto, with a warning (usePodIdentity %s)', (usePodIdentity, effect) => {
    const config = parse({ objects: OBJECTS, usePodIdentity, preferredAddressType: 'dualstack' });
    expect(config.preferredAddressType).toBe('auto');
    expect(config.warnings).toEqual([`preferredAddressType "dualstack" is not ipv4, ipv6 or auto; ${effect}. Fix or remove it.`]);
    expect(parse({ objects: OBJECTS, usePodIdentity, preferredAddressType: 'IPv6' })).toMatchObject({ preferredAddressType: 'ipv6', warnings: [] });
  });

  it('takes tokens from the attributes', () => {
    const config = parse({ objects: OBJECTS, [TOKENS_KEY]: tokensJson() });
    expect(config.tokens).toEqual({
      'sts.amazonaws.com': { token: SECRET_TOKEN, expirationTimestamp: '2030-01-01T00:00:00Z' },
    });
  });

  it('takes tokens from the secrets when the attributes have none', () => {
    const secrets = JSON.stringify({ [TOKENS_KEY]: tokensJson('pods.eks.amazonaws.com') });
    const config = parse({ objects: OBJECTS }, { secrets });
    expect(Object.keys(config.tokens)).toEqual(['pods.eks.amazonaws.com']);
  });

  it('prefers the attributes tokens over the secrets tokens', () => {
    const secrets = JSON.stringify({ [TOKENS_KEY]: tokensJson('pods.eks.amazonaws.com') });
    const config = parse({ objects: OBJECTS, [TOKENS_KEY]: tokensJson() }, { secrets });
    expect(Object.keys(config.tokens)).toEqual(['sts.amazonaws.com']);
  });

  it('accepts a token without expirationTimestamp', () => {
    const config = parse({ objects: OBJECTS, [TOKENS_KEY]: JSON.stringify({ aud: { token: 't' } }) });
    expect(config.tokens).toEqual({ aud: { token: 't' } });
  });

  it.each([
    ['empty secrets', ''],
    ['null secrets', 'null'],
    ['empty object', '{}'],
  ])('accepts %s', (_name, secrets) => {
    expect(parse({ objects: OBJECTS }, { secrets }).tokens).toEqual({});
  });

  it.each([
    ['0', 0],
    ['420', 0o644],
    ['384', 0o600],
    ['511', 0o777],
  ])('reads permission "%s"', (permission, mode) => {
    const config = parse({ objects: OBJECTS }, { permission });
    expect(config.permission).toBe(mode);
    expect(config.objects[0]?.mode).toBe(mode);
  });

  it('reads every parameter', () => {
    const config = parse({
      objects: OBJECTS,
      region: 'us-east-1',
      failoverRegion: 'us-west-2',
      usePodIdentity: 'TRUE',
      preferredAddressType: 'IPv6',
      assumeRoleArn: 'arn:aws:iam::111122223333:role/reader',
      assumeRoleExternalId: 'ext-1',
      assumeRoleDurationSeconds: '3600',
    });
    expect(config).toMatchObject({
      region: 'us-east-1',
      failoverRegions: ['us-west-2'],
      usePodIdentity: true,
      preferredAddressType: 'ipv6',
      assumeRoleArn: 'arn:aws:iam::111122223333:role/reader',
      assumeRoleExternalId: 'ext-1',
      assumeRoleDurationSeconds: 3600,
    });
  });

  it.each([
    ['true', true],
    ['True', true],
    ['1', true],
    ['t', true],
    ['false', false],
    ['FALSE', false],
    ['0', false],
    ['F', false],
    ['', false],
  ])('reads usePodIdentity "%s" (Go ParseBool spellings, as ASCP)', (value, expected) => {
    expect(parse({ objects: OBJECTS, usePodIdentity: value }).usePodIdentity).toBe(expected);
  });

  it('treats empty parameters as unset', () => {
    const config = parse({ objects: OBJECTS, region: '', failoverRegion: '', pathTranslation: '', preferredAddressType: '' });
    expect(config.region).toBeUndefined();
    expect(config.failoverRegions).toEqual([]);
    expect(config.preferredAddressType).toBe('auto');
    expect(config.objects[0]?.fileName).toBe('MySecret');
  });

  it('never rejects an unknown key, and warns about a near miss', () => {
    const config = parse({
      objects: OBJECTS,
      Region: 'us-east-1',
      failOverRegion: 'us-east-2',
      object: 'x',
      usePodIdentiy: 'true',
      'csi.storage.k8s.io/ephemeral': 'true',
      myAppSetting: 'whatever',
    });
    expect(config.region).toBeUndefined();
    expect(config.warnings).toHaveLength(4);
    expect(config.warnings.join('\n')).toContain('"Region"');
    expect(config.warnings.join('\n')).toContain('did you mean "region"');
    expect(config.warnings.join('\n')).toContain('did you mean "failoverRegion"');
    expect(config.warnings.join('\n')).toContain('did you mean "objects"');
    expect(config.warnings.join('\n')).toContain('did you mean "usePodIdentity"');
  });

  it('does not warn about driver keys', () => {
    const config = parse({ objects: OBJECTS, 'csi.storage.k8s.io/ephemeral': 'false' });
    expect(config.warnings).toEqual([]);
  });
});

interface BadRequest {
  name: string;
  request: Parameters<typeof parseMountRequest>[0];
  code?: 'InvalidMountRequest' | 'InvalidSecretProviderClass';
  mentions: string[];
}

const withoutAttribute = (key: string) => {
  const attributes: Record<string, string> = { ...POD_ATTRIBUTES, objects: OBJECTS };
  delete attributes[key];
  return { ...mountRequest({}), attributes: JSON.stringify(attributes) };
};

const requestCases: BadRequest[] = [
  { name: 'attributes not JSON', request: { ...mountRequest({}), attributes: '{"a":' }, code: 'InvalidMountRequest', mentions: ['attributes is not valid JSON'] },
  { name: 'attributes a JSON list', request: { ...mountRequest({}), attributes: '["a"]' }, code: 'InvalidMountRequest', mentions: ['attributes is not a JSON object'] },
  { name: 'attributes JSON null', request: { ...mountRequest({}), attributes: 'null' }, code: 'InvalidMountRequest', mentions: ['attributes is not a JSON object'] },
  { name: 'attribute value not a string', request: { ...mountRequest({}), attributes: '{"region": 1}' }, code: 'InvalidMountRequest', mentions: ['attributes', '"region"', 'not a string'] },
  { name: 'secrets not JSON', request: mountRequest({ objects: OBJECTS }, { secrets: 'password=hunter2' }), code: 'InvalidMountRequest', mentions: ['secrets is not valid JSON'] },
  { name: 'pod name missing', request: withoutAttribute('csi.storage.k8s.io/pod.name'), code: 'InvalidMountRequest', mentions: ['csi.storage.k8s.io/pod.name', 'podInfoOnMount: true'] },
  { name: 'pod namespace missing', request: withoutAttribute('csi.storage.k8s.io/pod.namespace'), code: 'InvalidMountRequest', mentions: ['csi.storage.k8s.io/pod.namespace', 'podInfoOnMount'] },
  { name: 'service account missing', request: withoutAttribute('csi.storage.k8s.io/serviceAccount.name'), code: 'InvalidMountRequest', mentions: ['csi.storage.k8s.io/serviceAccount.name', 'podInfoOnMount'] },
  { name: 'permission empty', request: mountRequest({ objects: OBJECTS }, { permission: '' }), code: 'InvalidMountRequest', mentions: ['permission ""', '0 to 511'] },
  { name: 'permission too large', request: mountRequest({ objects: OBJECTS }, { permission: '512' }), code: 'InvalidMountRequest', mentions: ['permission "512"', '0 to 511'] },
  { name: 'permission negative', request: mountRequest({ objects: OBJECTS }, { permission: '-1' }), code: 'InvalidMountRequest', mentions: ['permission "-1"'] },
  { name: 'permission a float', request: mountRequest({ objects: OBJECTS }, { permission: '420.5' }), code: 'InvalidMountRequest', mentions: ['permission "420.5"'] },
  { name: 'permission in octal', request: mountRequest({ objects: OBJECTS }, { permission: '0644' }), code: 'InvalidMountRequest', mentions: ['permission "0644"', 'decimal'] },
  { name: 'permission a word', request: mountRequest({ objects: OBJECTS }, { permission: 'rw' }), code: 'InvalidMountRequest', mentions: ['permission "rw"'] },
  { name: 'tokens not JSON', request: mountRequest({ objects: OBJECTS, [TOKENS_KEY]: `{"sts.amazonaws.com": ${SECRET_TOKEN}` }), code: 'InvalidMountRequest', mentions: [TOKENS_KEY, 'in the attributes', 'not valid JSON'] },
  { name: 'tokens a list', request: mountRequest({ objects: OBJECTS, [TOKENS_KEY]: `["${SECRET_TOKEN}"]` }), code: 'InvalidMountRequest', mentions: [TOKENS_KEY, 'not a JSON object'] },
  { name: 'token entry a string', request: mountRequest({ objects: OBJECTS, [TOKENS_KEY]: JSON.stringify({ aud: SECRET_TOKEN }) }), code: 'InvalidMountRequest', mentions: [TOKENS_KEY, 'no token string for audience "aud"'] },
  { name: 'token entry with a numeric token', request: mountRequest({ objects: OBJECTS, [TOKENS_KEY]: JSON.stringify({ aud: { token: 5 } }) }), code: 'InvalidMountRequest', mentions: ['audience "aud"'] },
  { name: 'token expiry not a string', request: mountRequest({ objects: OBJECTS, [TOKENS_KEY]: JSON.stringify({ aud: { token: SECRET_TOKEN, expirationTimestamp: 5 } }) }), code: 'InvalidMountRequest', mentions: ['expirationTimestamp', 'audience "aud"'] },
  { name: 'tokens in secrets malformed', request: mountRequest({ objects: OBJECTS }, { secrets: JSON.stringify({ [TOKENS_KEY]: SECRET_TOKEN }) }), code: 'InvalidMountRequest', mentions: [TOKENS_KEY, 'in the secrets', 'not valid JSON'] },
];

const spcCases: BadRequest[] = BAD_PARAMETERS.map(({ name, parameters, mentions }) => ({
  name,
  request: mountRequest(parameters),
  mentions,
}));

describe('parseMountRequest: bad requests are INVALID_ARGUMENT and say what to fix', () => {
  it.each([...requestCases, ...spcCases])('$name', ({ request, code, mentions }) => {
    const error = invalid(() => parseMountRequest(request), code);
    for (const text of mentions) expect(error.message).toContain(text);
  });

  it('never echoes a token or the secrets in a message', () => {
    for (const { request } of requestCases) {
      try {
        parseMountRequest(request);
      } catch (err) {
        expect((err as Error).message).not.toContain(SECRET_TOKEN);
        expect((err as Error).message).not.toContain('hunter2');
      }
    }
  });
});
