/**
 * The Mount, case by case, through the real pipeline of the composition root (src/mount/core.ts) with its edges
 * answered in the process (./inProcessEdges.ts): each case sets up AWS and Kubernetes, mounts, and names the files
 * or the error code it expects. The process-level tests (test/integration/mount) prove the same against moto and a
 * real apiserver; this table proves every branch of the pipeline in milliseconds.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { IRSA_AUDIENCE } from '../../../src/auth/irsa.js';
import { POD_IDENTITY_AUDIENCE } from '../../../src/auth/podIdentity.js';
import { parseFlags } from '../../../src/config/flags.js';
import { ProviderError, type ErrorCode } from '../../../src/errors.js';
import { createMountCore, type MountCore } from '../../../src/mount/core.js';
import { createMountHandler } from '../../../src/mount/handler.js';
import { createLogger } from '../../../src/observability/logger.js';
import { ProviderMetrics } from '../../../src/observability/metrics.js';
import type { MountRequestMessage } from '../../../src/server/proto.js';
import { InProcessAws, InProcessCluster, InProcessPodIdentityAgent, type AwsCall, type Override } from './inProcessEdges.js';

const JMESPATH_WORKER = new URL('../../../src/files/jmespathWorker.ts', import.meta.url);
const NAMESPACE = 'shop';
const SERVICE_ACCOUNT = 'web';
const ROLE = 'arn:aws:iam::111122223333:role/web';
const PRIMARY = 'us-east-1';
const FAILOVER = 'eu-west-1';

interface World {
  aws: InProcessAws;
  cluster: InProcessCluster;
  agent: InProcessPodIdentityAgent;
  core: MountCore;
}

const cores: MountCore[] = [];
afterAll(() => Promise.all(cores.map((core) => core.close())));

/**
 * One pipeline for the jmesPath cases: its worker thread starts once (~0.4 s), not per case. Each case writes the
 * current version of its secret, so what an earlier case left does not matter.
 */
let jmesPathWorld: World | undefined;
const sharedForJmesPath = (): World => (jmesPathWorld ??= world());

/** A fresh pipeline and edges: one service account with its role, one pod on a node of us-east-1. */
function world(providerRegion: string | undefined = undefined, flags: string[] = [], metrics?: ProviderMetrics): World {
  const aws = new InProcessAws();
  const cluster = new InProcessCluster();
  const agent = new InProcessPodIdentityAgent();
  cluster.serviceAccounts.set(`${NAMESPACE}/${SERVICE_ACCOUNT}`, { roleArn: ROLE });
  cluster.pods.set(`${NAMESPACE}/web-0`, 'node-a');
  cluster.nodes.set('node-a', { 'topology.kubernetes.io/region': PRIMARY });
  const core = createMountCore(
    { ...parseFlags(flags), awsMaxAttempts: 1 },
    {
      coreApi: () => Promise.resolve(cluster.coreApi),
      awsRequestHandler: aws.handler(),
      podIdentityFetch: agent.fetch,
      jmesPathWorker: JMESPATH_WORKER,
      providerRegion,
      ...(metrics !== undefined && { metrics }),
    },
  );
  cores.push(core);
  return { aws, cluster, agent, core };
}

interface RequestOptions {
  parameters?: Record<string, string>;
  /** Tokens by audience; by default a good one for IRSA and one for Pod Identity. */
  tokens?: Record<string, string>;
  attributes?: string;
  permission?: string;
  /** kubelet's path of the pod's volume: the same one again is a rotation re-publish. */
  targetPath?: string;
}

function request(w: World, objects: string, options: RequestOptions = {}): MountRequestMessage {
  const tokens = options.tokens ?? {
    [IRSA_AUDIENCE]: w.cluster.token(NAMESPACE, SERVICE_ACCOUNT, IRSA_AUDIENCE),
    [POD_IDENTITY_AUDIENCE]: w.cluster.token(NAMESPACE, SERVICE_ACCOUNT, POD_IDENTITY_AUDIENCE),
  };
  const attributes = {
    secretProviderClass: 'web',
    'csi.storage.k8s.io/pod.name': 'web-0',
    'csi.storage.k8s.io/pod.namespace': NAMESPACE,
    'csi.storage.k8s.io/pod.uid': '00000000-0000-4000-8000-000000000000',
    'csi.storage.k8s.io/serviceAccount.name': SERVICE_ACCOUNT,
    'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify(
      Object.fromEntries(Object.entries(tokens).map(([audience, token]) => [audience, { token }])),
    ),
    objects,
    ...options.parameters,
  };
  return {
    attributes: options.attributes ?? JSON.stringify(attributes),
    secrets: 'null',
    targetPath: options.targetPath ?? '/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/secrets/mount',
    permission: options.permission ?? '420',
    currentObjectVersion: [],
  };
}

const region = (name: string = PRIMARY) => ({ region: name });
const podPath = (pod: string) => `/var/lib/kubelet/pods/${pod}/volumes/kubernetes.io~csi/secrets/mount`;
const withFailover = { region: PRIMARY, failoverRegion: FAILOVER };
const down = (name: string): ((call: AwsCall) => Override) => (call) =>
  call.region === name && call.action !== 'AssumeRoleWithWebIdentity' ? { status: 500, type: 'InternalServiceError' } : undefined;

/** Mounts and returns the files as text by path, with their modes and the versions reported. */
async function mounted(w: World, req: MountRequestMessage) {
  const { response } = await w.core.mount(req, new AbortController().signal);
  return {
    files: Object.fromEntries(response.files.map((f) => [f.path, Buffer.from(f.contents).toString()])),
    modes: Object.fromEntries(response.files.map((f) => [f.path, f.mode])),
    versions: Object.fromEntries(response.objectVersion.map((v) => [v.id, v.version])),
  };
}

async function refusal(w: World, req: MountRequestMessage): Promise<ProviderError> {
  const error = await w.core.mount(req, new AbortController().signal).then(
    () => {
      throw new Error('the Mount succeeded');
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

interface GoodCase {
  name: string;
  /** Sets up the edges; what it returns is handed to `objects` (e.g. a version id). */
  setup: (w: World) => unknown;
  objects: string | ((made: unknown) => string);
  options?: RequestOptions;
  providerRegion?: string;
  files: Record<string, string>;
  check?: (w: World, result: Awaited<ReturnType<typeof mounted>>) => void;
  /** Runs on the pipeline shared by the jmesPath cases. */
  jmesPath?: true;
}

const sm = (name: string, extra = '') => `- objectName: ${name}\n  objectType: secretsmanager\n${extra}`;
const ssm = (name: string, extra = '') => `- objectName: ${name}\n  objectType: ssmparameter\n${extra}`;

const good: GoodCase[] = [
  {
    name: 'initial mount: one secret by name',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', 's3cret'),
    objects: sm('db'),
    options: { parameters: region() },
    files: { db: 's3cret' },
  },
  {
    name: 'a secret by full ARN is written under its name',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', 's3cret'),
    objects: sm('arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf'),
    options: { parameters: region() },
    files: { 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf': 's3cret' },
  },
  {
    name: 'a binary secret is written as its bytes',
    setup: (w) => w.aws.putSecret(PRIMARY, 'blob', Buffer.from([1, 2, 3])),
    objects: sm('blob'),
    options: { parameters: region() },
    files: { blob: '\u0001\u0002\u0003' },
  },
  {
    name: 'objectAlias names the file',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', 's3cret'),
    objects: sm('db', '  objectAlias: database\n'),
    options: { parameters: region() },
    files: { database: 's3cret' },
  },
  {
    name: 'a parameter: its latest version',
    setup: (w) => {
      w.aws.putParameter(PRIMARY, '/app/flag', 'one');
      w.aws.putParameter(PRIMARY, '/app/flag', 'two');
    },
    objects: ssm('/app/flag'),
    options: { parameters: region() },
    files: { _app_flag: 'two' },
  },
  {
    name: 'a parameter pinned by objectVersion',
    setup: (w) => {
      w.aws.putParameter(PRIMARY, '/app/flag', 'one');
      w.aws.putParameter(PRIMARY, '/app/flag', 'two');
    },
    objects: ssm('/app/flag', '  objectVersion: "1"\n'),
    options: { parameters: region() },
    files: { _app_flag: 'one' },
  },
  {
    name: 'a parameter by objectVersionLabel',
    setup: (w) => {
      w.aws.putParameter(PRIMARY, '/app/flag', 'one', ['stable']);
      w.aws.putParameter(PRIMARY, '/app/flag', 'two');
    },
    objects: ssm('/app/flag', '  objectVersionLabel: stable\n'),
    options: { parameters: region() },
    files: { _app_flag: 'one' },
  },
  {
    name: 'a secret pinned by objectVersion reads that version, not the current one',
    setup: (w) => {
      const first = w.aws.putSecret(PRIMARY, 'db', 'old');
      w.aws.putSecret(PRIMARY, 'db', 'new');
      return first;
    },
    objects: (first) => sm('db', `  objectVersion: ${String(first)}\n`),
    options: { parameters: region() },
    files: { db: 'old' },
  },
  {
    name: 'a secret by objectVersionLabel reads the labelled version',
    setup: (w) => {
      w.aws.putSecret(PRIMARY, 'db', 'previous');
      w.aws.putSecret(PRIMARY, 'db', 'current');
      w.aws.secrets.get(PRIMARY)!.get('db')![0]!.stages = ['AWSPREVIOUS'];
    },
    objects: sm('db', '  objectVersionLabel: AWSPREVIOUS\n'),
    options: { parameters: region() },
    files: { db: 'previous' },
  },
  {
    name: 'pathTranslation: "/" becomes the given character',
    setup: (w) => w.aws.putParameter(PRIMARY, '/app/flag', 'on'),
    objects: ssm('/app/flag'),
    options: { parameters: { ...region(), pathTranslation: '-' } },
    files: { '-app-flag': 'on' },
  },
  {
    name: 'pathTranslation "False" keeps the path as directories',
    setup: (w) => w.aws.putSecret(PRIMARY, 'team/db', 's3cret'),
    objects: sm('team/db'),
    options: { parameters: { ...region(), pathTranslation: 'False' } },
    files: { 'team/db': 's3cret' },
  },
  {
    name: 'jmesPath: each path becomes a file, the whole secret too',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', JSON.stringify({ username: 'app', password: 'pw' })),
    objects: sm('db', '  jmesPath:\n    - path: username\n      objectAlias: user\n    - path: password\n      objectAlias: pass\n'),
    options: { parameters: region() },
    jmesPath: true,
    files: { db: '{"username":"app","password":"pw"}', user: 'app', pass: 'pw' },
  },
  {
    name: 'filePermission and the request permission set the mode',
    setup: (w) => {
      w.aws.putSecret(PRIMARY, 'db', 'a');
      w.aws.putSecret(PRIMARY, 'key', 'b');
    },
    objects: sm('db') + sm('key', '  filePermission: "0600"\n'),
    options: { parameters: region(), permission: '416' },
    files: { db: 'a', key: 'b' },
    check: (_w, { modes }) => expect(modes).toEqual({ db: 0o640, key: 0o600 }),
  },
  {
    name: 'secrets and parameters together: one batch call, one GetParameters call',
    setup: (w) => {
      for (const name of ['a', 'b', 'c']) w.aws.putSecret(PRIMARY, name, name.toUpperCase());
      w.aws.putParameter(PRIMARY, '/p', 'P');
    },
    objects: sm('a') + sm('b') + sm('c') + ssm('/p'),
    options: { parameters: region() },
    files: { a: 'A', b: 'B', c: 'C', _p: 'P' },
    check: (w) =>
      expect(w.aws.calls.map((c) => c.action).sort()).toEqual(['AssumeRoleWithWebIdentity', 'BatchGetSecretValue', 'GetParameters']),
  },
  {
    name: 'BatchGetSecretValue denied: GetSecretValue per secret instead',
    setup: (w) => {
      w.aws.putSecret(PRIMARY, 'a', 'A');
      w.aws.putSecret(PRIMARY, 'b', 'B');
      w.aws.override = (call) => (call.action === 'BatchGetSecretValue' ? { status: 400, type: 'AccessDeniedException' } : undefined);
    },
    objects: sm('a') + sm('b'),
    options: { parameters: region() },
    files: { a: 'A', b: 'B' },
    check: (w) => expect(w.aws.calls.filter((c) => c.action === 'GetSecretValue')).toHaveLength(2),
  },
  {
    name: 'failover: the primary region down, every object from the failover region',
    setup: (w) => {
      w.aws.putSecret(FAILOVER, 'db', 'from-eu');
      w.aws.override = down(PRIMARY);
    },
    objects: sm('db'),
    options: { parameters: withFailover },
    files: { db: 'from-eu' },
  },
  {
    name: 'failover: a healthy primary is read, the failover region is not asked',
    setup: (w) => {
      w.aws.putSecret(PRIMARY, 'db', 'from-us');
      w.aws.putSecret(FAILOVER, 'db', 'from-eu');
    },
    objects: sm('db'),
    options: { parameters: withFailover },
    files: { db: 'from-us' },
    check: (w) => expect(w.aws.calls.filter((c) => c.region === FAILOVER)).toEqual([]),
  },
  {
    name: 'failover: backupArn names the secret in the failover region',
    setup: (w) => {
      w.aws.putSecret(FAILOVER, 'db-replica', 'replica');
      w.aws.override = down(PRIMARY);
    },
    objects:
      '- objectName: arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf\n  objectType: secretsmanager\n' +
      '  objectAlias: db\n  failoverObject:\n    objectName: arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-replica-AbCdEf\n',
    options: { parameters: withFailover },
    files: { db: 'replica' },
  },
  {
    name: 'no region in the SecretProviderClass: the provider\'s AWS_REGION',
    setup: (w) => w.aws.putSecret('ap-south-1', 'db', 'mumbai'),
    providerRegion: 'ap-south-1',
    objects: sm('db'),
    files: { db: 'mumbai' },
  },
  {
    name: 'no region anywhere else: the region label of the pod\'s node',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', 'from-node'),
    objects: sm('db'),
    files: { db: 'from-node' },
  },
  {
    name: 'EKS Pod Identity: credentials from the agent, no STS call',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', 's3cret'),
    objects: sm('db'),
    options: { parameters: { ...region(), usePodIdentity: 'true' } },
    files: { db: 's3cret' },
    check: (w) => {
      expect(w.agent.calls).toHaveLength(1);
      expect(w.aws.calls.map((c) => c.action)).toEqual(['BatchGetSecretValue']);
    },
  },
  {
    name: 'assumeRoleArn: the pod\'s role chains into another',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', 's3cret'),
    objects: sm('db'),
    options: { parameters: { ...region(), assumeRoleArn: 'arn:aws:iam::444455556666:role/reader' } },
    files: { db: 's3cret' },
    check: (w) => expect(w.aws.calls.map((c) => c.action)).toEqual(['AssumeRoleWithWebIdentity', 'AssumeRole', 'BatchGetSecretValue']),
  },  {
    name: 'jsonKeys: every top-level key is a file of the alias directory, with the secret\'s version',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', JSON.stringify({ user: 'app', port: 5432 })),
    objects: sm('db', '  objectAlias: db\n  jsonKeys: all\n'),
    options: { parameters: region() },
    files: { 'db/user': 'app', 'db/port': '5432' },
    check: (w, { versions }) => expect(new Set(Object.values(versions)).size).toBe(1),
  },
  {
    name: 'objectEncoding: a base64 secret and a hex parameter are written decoded, a binary secret as it is',
    setup: (w) => {
      w.aws.putSecret(PRIMARY, 'b64', Buffer.from('keystore').toString('base64'));
      w.aws.putSecret(PRIMARY, 'bin', Buffer.from('raw'));
      w.aws.putParameter(PRIMARY, '/hex', Buffer.from('der').toString('hex'));
    },
    objects: sm('b64', '  objectEncoding: base64\n') + sm('bin', '  objectEncoding: base64\n') + ssm('/hex', '  objectEncoding: hex\n'),
    options: { parameters: region() },
    files: { b64: 'keystore', bin: 'raw', _hex: 'der' },
  },
  {
    name: 'a parameter path wildcard: each parameter one level below, page after page, with its version',
    setup: (w) => {
      for (let i = 0; i < 11; i++) w.aws.putParameter(PRIMARY, `/app/p${i}`, `v${i}`);
      w.aws.putParameter(PRIMARY, '/app/deeper/x', 'not one level below');
      w.aws.putParameter(PRIMARY, '/apparent', 'not below the path');
    },
    objects: ssm('/app/*', '  objectAlias: app\n'),
    options: { parameters: region() },
    files: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`app/p${i}`, `v${i}`])),
    check: (w, { versions }) => {
      expect(w.aws.calls.filter((c) => c.action === 'GetParametersByPath')).toHaveLength(2);
      expect(versions['app/p0']).toBe('1');
    },
  },
  {
    name: 'a secret prefix wildcard keeps names that start with the prefix exactly, whatever AWS\'s filter answers',
    setup: (w) => {
      w.aws.putSecret(PRIMARY, 'prod/a', 'a');
      w.aws.putSecret(PRIMARY, 'PROD/b', 'not this case');
      w.aws.putSecret(PRIMARY, 'prod/x/y', 'deeper');
    },
    objects: sm('prod/*') + sm('prod/**', '  objectAlias: all\n'),
    options: { parameters: region() },
    files: { 'prod/a': 'a', 'all/a': 'a', 'all/x_y': 'deeper' },
  },
  {
    name: 'a secret wildcard with tags keeps the secrets carrying every tag exactly, their values batched',
    setup: (w) => {
      const tag = (name: string, tags: Record<string, string>) => {
        w.aws.putSecret(PRIMARY, name, name);
        if (!w.aws.tags.has(PRIMARY)) w.aws.tags.set(PRIMARY, new Map());
        w.aws.tags.get(PRIMARY)!.set(name, tags);
      };
      tag('pay/a', { team: 'payments', env: 'prod' });
      tag('pay/b', { team: 'payments-old', env: 'prod' });
      tag('other', { team: 'payments', env: 'prod' });
      tag('pay/c', { team: 'payments' });
    },
    objects: sm('pay/*', '  objectAlias: pay\n  tags: {team: payments, env: prod}\n'),
    options: { parameters: region() },
    files: { 'pay/a': 'pay/a' },
    check: (w) => expect(w.aws.calls.map((c) => c.action)).toEqual(['AssumeRoleWithWebIdentity', 'ListSecrets', 'BatchGetSecretValue']),
  },
  {
    name: 'a wildcard fails over with its region, and allowEmpty writes nothing for no match',
    setup: (w) => {
      w.aws.putParameter(FAILOVER, '/app/p', 'from failover');
      w.aws.override = down(PRIMARY);
    },
    objects: ssm('/app/*', '  objectAlias: app\n') + ssm('/none/*', '  objectAlias: none\n  allowEmpty: true\n'),
    options: { parameters: withFailover },
    files: { 'app/p': 'from failover' },
  },
];

describe('the Mount, case by case: what it writes', () => {
  it.each(good)('$name', async (c) => {
    const w = c.jmesPath ? sharedForJmesPath() : world(c.providerRegion);
    const made = c.setup(w);
    const objects = typeof c.objects === 'string' ? c.objects : c.objects(made);
    const result = await mounted(w, request(w, objects, c.options));
    expect(result.files).toEqual(c.files);
    expect(Object.keys(result.versions).length).toBeGreaterThan(0);
    c.check?.(w, result);
  });
});

describe('the Mount, again: rotation and what is remembered', () => {
  it('a rotated secret is served at its new version to the next pod: a first mount always fetches', async () => {
    const w = world();
    w.aws.putSecret(PRIMARY, 'db', 'v1');
    const first = await mounted(w, request(w, sm('db'), { parameters: region() }));
    const rotated = w.aws.putSecret(PRIMARY, 'db', 'v2');
    const second = await mounted(w, request(w, sm('db'), { parameters: region(), targetPath: podPath('web-1') }));
    expect(first.files).toEqual({ db: 'v1' });
    expect(second.files).toEqual({ db: 'v2' });
    expect(second.versions).toEqual({ db: rotated });
  });

  it('credentials are obtained once for the identity, the objects YAML parsed once for its text', async () => {
    const w = world();
    w.aws.putSecret(PRIMARY, 'db', 's3cret');
    await mounted(w, request(w, sm('db'), { parameters: region() }));
    await mounted(w, request(w, sm('db'), { parameters: region() }));
    expect(w.aws.calls.filter((c) => c.action === 'AssumeRoleWithWebIdentity')).toHaveLength(1);
    const parsed = (text: string) => w.core.dependencies.parseObjects(text, { translation: '_', defaultMode: 0o644, region: PRIMARY });
    expect(parsed(sm('db'))).toBe(parsed(sm('db')));
  });

  it('two pipelines share nothing: another core parses, asks STS and fetches afresh', async () => {
    const a = world();
    const b = world();
    for (const w of [a, b]) w.aws.putSecret(PRIMARY, 'db', 's3cret');
    await mounted(a, request(a, sm('db'), { parameters: region() }));
    const ctx = { translation: '_', defaultMode: 0o644, region: PRIMARY } as const;
    expect(b.core.dependencies.parseObjects(sm('db'), ctx)).not.toBe(a.core.dependencies.parseObjects(sm('db'), ctx));
    await mounted(b, request(b, sm('db'), { parameters: region() }));
    expect(b.aws.calls.map((c) => c.action)).toEqual(['AssumeRoleWithWebIdentity', 'BatchGetSecretValue']);
  });

  it('concurrent Mounts of the same objects and identity share one fetch', async () => {
    const w = world();
    w.aws.putSecret(PRIMARY, 'db', 's3cret');
    const req = request(w, sm('db'), { parameters: region() });
    const results = await Promise.all([1, 2, 3].map(() => mounted(w, req)));
    expect(results.map((r) => r.files)).toEqual([{ db: 's3cret' }, { db: 's3cret' }, { db: 's3cret' }]);
    expect(w.aws.calls.filter((c) => c.action === 'BatchGetSecretValue')).toHaveLength(1);
  });
});

describe('rotation re-publishes: answered from the same identity\'s fetch within --rotation-cache-ttl', () => {
  const throttled: Override = { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' };
  const answers = async (metrics: ProviderMetrics) =>
    Object.fromEntries(
      (await metrics.answers.get()).values.map((v) => [`${v.labels.kind}/${v.labels.result}`, v.value]),
    );

  it('a re-publish within the TTL makes no AWS call; a new pod of the same identity fetches', async () => {
    const metrics = new ProviderMetrics();
    const w = world(undefined, [], metrics);
    w.aws.putSecret(PRIMARY, 'db', 'v1');
    const pod0 = { parameters: region(), targetPath: podPath('web-0') };
    await mounted(w, request(w, sm('db'), pod0));
    w.aws.putSecret(PRIMARY, 'db', 'v2');
    w.aws.calls.length = 0;

    const republished = await mounted(w, request(w, sm('db'), pod0));
    expect(republished.files).toEqual({ db: 'v1' });
    expect(w.aws.calls).toEqual([]);

    const newPod = await mounted(w, request(w, sm('db'), { parameters: region(), targetPath: podPath('web-1') }));
    expect(newPod.files).toEqual({ db: 'v2' });
    expect(w.aws.calls.map((c) => c.action)).toEqual(['BatchGetSecretValue']);
    expect(await answers(metrics)).toEqual({ 'first/miss': 2, 'republish/hit': 1 });
  });

  it("a re-publish is never answered with another identity's fetch", async () => {
    const w = world();
    w.cluster.serviceAccounts.set(`${NAMESPACE}/api`, { roleArn: 'arn:aws:iam::111122223333:role/api' });
    w.aws.putSecret(PRIMARY, 'db', 'v1');
    w.aws.putSecret(PRIMARY, 'other', 'o1');
    const api = (targetPath: string, objects: string) => {
      const tokens = {
        [IRSA_AUDIENCE]: w.cluster.token(NAMESPACE, 'api', IRSA_AUDIENCE),
        [POD_IDENTITY_AUDIENCE]: w.cluster.token(NAMESPACE, 'api', POD_IDENTITY_AUDIENCE),
      };
      const req = request(w, objects, { parameters: region(), targetPath, tokens });
      const attributes = JSON.parse(req.attributes) as Record<string, string>;
      attributes['csi.storage.k8s.io/serviceAccount.name'] = 'api';
      return { ...req, attributes: JSON.stringify(attributes) };
    };
    // web fetches db; api's volume is published with other objects, then re-published with db's.
    await mounted(w, request(w, sm('db'), { parameters: region(), targetPath: podPath('web-0') }));
    await mounted(w, api(podPath('api-0'), sm('other')));
    w.aws.putSecret(PRIMARY, 'db', 'v2');
    w.aws.calls.length = 0;

    const republished = await mounted(w, api(podPath('api-0'), sm('db')));
    expect(republished.files).toEqual({ db: 'v2' });
    expect(w.aws.calls.map((c) => c.action)).toEqual(['BatchGetSecretValue']);
  });

  it('BatchGetSecretValue throttled: the batch goes out as GetSecretValue, no failover, and the next Mount starts there', async () => {
    const metrics = new ProviderMetrics();
    const w = world(undefined, [], metrics);
    w.aws.putSecret(PRIMARY, 'a', 'va');
    w.aws.putSecret(PRIMARY, 'b', 'vb');
    w.aws.override = (call) => (call.action === 'BatchGetSecretValue' ? throttled : undefined);
    const objects = `${sm('a')}${sm('b')}`;

    const result = await mounted(w, request(w, objects, { parameters: withFailover, targetPath: podPath('web-0') }));
    expect(result.files).toEqual({ a: 'va', b: 'vb' });
    const actions = w.aws.calls.filter((c) => c.action !== 'AssumeRoleWithWebIdentity');
    expect(actions).toEqual([
      { region: PRIMARY, action: 'BatchGetSecretValue' },
      { region: PRIMARY, action: 'GetSecretValue' },
      { region: PRIMARY, action: 'GetSecretValue' },
    ]);
    w.aws.calls.length = 0;
    await mounted(w, request(w, objects, { parameters: withFailover, targetPath: podPath('web-1') }));
    expect(w.aws.calls.map((c) => c.action)).toEqual(['GetSecretValue', 'GetSecretValue']);
    const switches = (await metrics.strategySwitches.get()).values;
    expect(switches.map((v) => [v.labels.region, v.labels.to, v.value])).toEqual([[PRIMARY, 'GetSecretValue', 1]]);
    const throttles = (await metrics.throttles.get()).values;
    expect(throttles.map((v) => [v.labels.action, v.value])).toEqual([['BatchGetSecretValue', 1]]);
  });

  it('while the region throttles, a first mount fetches and a re-publish past the TTL is served stale', async () => {
    const metrics = new ProviderMetrics();
    // Secrets Manager counts as throttling in the region for the grace after a throttled GetSecretValue (a throttled
    // batch alone does not count: GetSecretValue answers for it).
    const w = world(undefined, ['--rotation-cache-ttl=2s'], metrics);
    w.aws.putSecret(PRIMARY, 'db', 'v1');
    w.aws.putSecret(PRIMARY, 'other', 'o1');
    await mounted(w, request(w, sm('db'), { parameters: region(), targetPath: podPath('web-0') }));
    w.aws.putSecret(PRIMARY, 'db', 'v2');
    let singles = 0;
    w.aws.override = (call) =>
      call.action === 'BatchGetSecretValue' || (call.action === 'GetSecretValue' && singles++ === 0) ? throttled : undefined;
    await new Promise((resolve) => setTimeout(resolve, 2050));
    w.aws.calls.length = 0;

    const first = await mounted(w, request(w, sm('other'), { parameters: region(), targetPath: podPath('web-1') }));
    const republished = await mounted(w, request(w, sm('db'), { parameters: region(), targetPath: podPath('web-0') }));
    expect(first.files).toEqual({ other: 'o1' });
    expect(republished.files).toEqual({ db: 'v1' });
    // The first mount asked again for its throttled secret; the re-publish made no call.
    expect(w.aws.calls.map((c) => c.action)).toEqual(['BatchGetSecretValue', 'GetSecretValue', 'GetSecretValue']);
    expect(await answers(metrics)).toEqual({ 'first/miss': 2, 'republish/stale': 1 });
  });

  it('past the TTL and the grace, a throttled re-publish fails rather than being served', async () => {
    const w = world(undefined, ['--rotation-cache-ttl=1ms', '--rotation-cache-grace=1ms', '--throttle-wait=0']);
    w.aws.putSecret(PRIMARY, 'db', 'v1');
    await mounted(w, request(w, sm('db'), { parameters: region(), targetPath: podPath('web-0') }));
    w.aws.override = (call) => (call.action.endsWith('SecretValue') ? throttled : undefined);
    await new Promise((resolve) => setTimeout(resolve, 5));

    const error = await refusal(w, request(w, sm('db'), { parameters: region(), targetPath: podPath('web-0') }));
    expect(error.code).toBe('RegionUnavailable');
    expect(error.message).toMatch(/GetSecretValue.*ThrottlingException/);
  });
});

interface BadCase {
  name: string;
  code: ErrorCode;
  setup?: (w: World) => void;
  objects?: string;
  options?: (w: World) => RequestOptions;
  /** What the message must say, so the user can fix it. */
  says?: RegExp;
  jmesPath?: true;
}

const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

const bad: BadCase[] = [
  { name: 'attributes that are not JSON', code: 'InvalidMountRequest', options: () => ({ attributes: '{' }), says: /attributes is not valid JSON/ },
  { name: 'a permission that is not a file mode', code: 'InvalidMountRequest', options: () => ({ permission: '9999', parameters: region() }), says: /not a file mode/ },
  { name: 'a misspelt objects field', code: 'InvalidSecretProviderClass', objects: '- objectName: db\n  objectTipe: secretsmanager\n', says: /objectTipe/ },
  { name: 'objects is not YAML', code: 'InvalidSecretProviderClass', objects: '- objectName: [', says: /objects/ },
  {
    name: 'more objects than --max-objects',
    code: 'InvalidSecretProviderClass',
    objects: Array.from({ length: 257 }, (_, i) => sm(`s${i}`)).join(''),
    says: /--max-objects/,
  },
  {
    name: 'an ARN of another region than the Mount\'s',
    code: 'InvalidSecretProviderClass',
    objects: sm('arn:aws:secretsmanager:ap-south-1:111122223333:secret:db-AbCdEf'),
    options: () => ({ parameters: region() }),
    says: /ap-south-1/,
  },
  {
    name: 'no token for the IRSA audience',
    code: 'MissingServiceAccountToken',
    objects: sm('db'),
    options: () => ({ parameters: region(), tokens: {} }),
    says: /sts\.amazonaws\.com/,
  },
  {
    name: 'a token signed by a key the issuer does not publish',
    code: 'InvalidServiceAccountToken',
    objects: sm('db'),
    options: (w) => ({ parameters: region(), tokens: { [IRSA_AUDIENCE]: w.cluster.token(NAMESPACE, SERVICE_ACCOUNT, IRSA_AUDIENCE, otherKey) } }),
  },
  {
    name: 'a token of another service account',
    code: 'InvalidServiceAccountToken',
    objects: sm('db'),
    options: (w) => ({ parameters: region(), tokens: { [IRSA_AUDIENCE]: w.cluster.token(NAMESPACE, 'admin', IRSA_AUDIENCE) } }),
  },
  {
    name: 'a service account without the role annotation',
    code: 'MissingRoleAnnotation',
    setup: (w) => w.cluster.serviceAccounts.set(`${NAMESPACE}/${SERVICE_ACCOUNT}`, {}),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
    says: /eks\.amazonaws\.com\/role-arn/,
  },
  {
    name: 'no region anywhere: the node has no region label',
    code: 'RegionNotFound',
    setup: (w) => w.cluster.nodes.set('node-a', {}),
    objects: sm('db'),
  },
  {
    name: 'the Kubernetes API fails',
    code: 'KubernetesUnavailable',
    setup: (w) => (w.cluster.failWith = 500),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
  },
  {
    name: 'the provider may not read the service account',
    code: 'KubernetesAccessDenied',
    setup: (w) => (w.cluster.failWith = 403),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
  },
  {
    name: 'the service account does not exist',
    code: 'KubernetesNotFound',
    setup: (w) => w.cluster.serviceAccounts.clear(),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
  },
  {
    name: 'STS refuses the role',
    code: 'CredentialsRefused',
    setup: (w) => (w.aws.override = (call) => (call.action === 'AssumeRoleWithWebIdentity' ? { status: 403, type: 'AccessDenied' } : undefined)),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
  },
  {
    name: 'STS unavailable',
    code: 'CredentialsUnavailable',
    setup: (w) => (w.aws.override = (call) => (call.action === 'AssumeRoleWithWebIdentity' ? { status: 503, type: 'ServiceUnavailable' } : undefined)),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
  },
  {
    name: 'the Pod Identity agent cannot be reached',
    code: 'CredentialsUnavailable',
    setup: (w) => (w.agent.answer = 'unreachable'),
    objects: sm('db'),
    options: () => ({ parameters: { ...region(), usePodIdentity: 'true' } }),
  },
  {
    name: 'the Pod Identity agent refuses the token',
    code: 'CredentialsRefused',
    setup: (w) => (w.agent.answer = { status: 401, body: { message: 'invalid token' } }),
    objects: sm('db'),
    options: () => ({ parameters: { ...region(), usePodIdentity: 'true' } }),
  },
  {
    name: 'Secrets Manager denies the secret',
    code: 'AccessDenied',
    setup: (w) => (w.aws.override = (call) => (call.action.endsWith('SecretValue') ? { status: 400, type: 'AccessDeniedException' } : undefined)),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
    says: /secretsmanager:GetSecretValue/,
  },
  { name: 'a secret that does not exist', code: 'ObjectNotFound', objects: sm('missing'), options: () => ({ parameters: region() }), says: /missing/ },
  { name: 'a parameter that does not exist', code: 'ObjectNotFound', objects: ssm('/missing'), options: () => ({ parameters: region() }), says: /missing/ },
  {
    name: 'a parameter label that does not exist',
    code: 'ObjectNotFound',
    setup: (w) => w.aws.putParameter(PRIMARY, '/p', 'v'),
    objects: ssm('/p', '  objectVersionLabel: nope\n'),
    options: () => ({ parameters: region() }),
  },
  {
    name: 'KMS cannot decrypt the secret',
    code: 'DecryptionFailure',
    setup: (w) => (w.aws.override = (call) => (call.action.endsWith('SecretValue') ? { status: 400, type: 'DecryptionFailure' } : undefined)),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
  },
  {
    name: 'jmesPath on a secret that is not JSON',
    code: 'InvalidObjectValue',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', 'not json'),
    objects: sm('db', '  jmesPath:\n    - path: username\n      objectAlias: user\n'),
    options: () => ({ parameters: region() }),
    jmesPath: true,
  },
  {
    name: 'a jmesPath that finds nothing',
    code: 'InvalidObjectValue',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', '{"user":"app"}'),
    objects: sm('db', '  jmesPath:\n    - path: username\n      objectAlias: user\n'),
    options: () => ({ parameters: region() }),
    jmesPath: true,
  },
  {
    name: 'AWS rejects the request as invalid',
    code: 'AwsClientError',
    setup: (w) => (w.aws.override = (call) => (call.action.endsWith('SecretValue') ? { status: 400, type: 'InvalidParameterException' } : undefined)),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
  },
  {
    name: 'the region is down and there is no failover region',
    code: 'RegionUnavailable',
    setup: (w) => (w.aws.override = down(PRIMARY)),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
  },
  {
    name: 'both regions down',
    code: 'RegionUnavailable',
    setup: (w) => (w.aws.override = (call) => down(PRIMARY)(call) ?? down(FAILOVER)(call)),
    objects: sm('db'),
    options: () => ({ parameters: withFailover }),
  },
  {
    name: 'an error of no known kind',
    code: 'Internal',
    setup: (w) => (w.aws.override = (call) => (call.action.endsWith('SecretValue') ? 'throw' : undefined)),
    objects: sm('db'),
    options: () => ({ parameters: region() }),
  },  {
    name: 'a wildcard that matches nothing',
    code: 'ObjectNotFound',
    objects: ssm('/none/*', '  objectAlias: none\n'),
    options: () => ({ parameters: region() }),
    says: /objects\[0\] "\/none\/\*": no parameters under path \/none\/ .*allowEmpty: true/,
  },
  {
    name: 'a wildcard past --max-files-per-entry',
    code: 'InvalidSecretProviderClass',
    setup: (w) => {
      for (let i = 0; i < 101; i++) w.aws.putSecret(PRIMARY, `many/s${i}`, 'x');
    },
    objects: sm('many/*'),
    options: () => ({ parameters: region() }),
    says: /more than 100 secrets whose name starts with "many\/".*--max-files-per-entry/,
  },
  {
    name: 'a value that is not the base64 its objectEncoding says',
    code: 'InvalidObjectValue',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', 'hunter2!'),
    objects: sm('db', '  objectEncoding: base64\n'),
    options: () => ({ parameters: region() }),
    says: /^objects\[0\] "db": its value is not base64 text(?!.*hunter2)/,
  },
  {
    name: 'jsonKeys on keys that become one file',
    code: 'InvalidObjectValue',
    setup: (w) => w.aws.putSecret(PRIMARY, 'db', JSON.stringify({ 'a/b': 1, a_b: 2 })),
    objects: sm('db', '  jsonKeys: all\n'),
    options: () => ({ parameters: region() }),
    says: /keys "a\/b" and "a_b" both become file "a_b"/,
  },
];

describe('the Mount, case by case: every refusal names its cause', () => {
  it.each(bad)('$name: $code', async (c) => {
    const w = c.jmesPath ? sharedForJmesPath() : world();
    c.setup?.(w);
    const error = await refusal(w, request(w, c.objects ?? sm('db'), c.options?.(w)));
    expect({ code: error.code, message: error.message }).toEqual({ code: c.code, message: expect.stringMatching(c.says ?? /./) });
  });
});

describe('the Mount handler: deadline and cancellation', () => {
  const handlerOf = (w: World, timeoutMs: number) =>
    createMountHandler(w.core.mount, { timeoutMs, logger: createLogger('silent'), metrics: new ProviderMetrics() });

  it('an AWS call that outlives the Mount deadline: DeadlineExceeded', async () => {
    const w = world();
    w.aws.override = (call) => (call.action.endsWith('SecretValue') ? 'hang' : undefined);
    const error = await handlerOf(w, 50)(request(w, sm('db'), { parameters: region() }), new AbortController().signal, 0).catch((e: unknown) => e);
    expect((error as ProviderError).code).toBe('DeadlineExceeded');
  });

  it('the driver goes away mid-Mount: Cancelled', async () => {
    const w = world();
    w.aws.override = (call) => (call.action.endsWith('SecretValue') ? 'hang' : undefined);
    const driver = new AbortController();
    const pending = handlerOf(w, 60_000)(request(w, sm('db'), { parameters: region() }), driver.signal, 0).catch((e: unknown) => e);
    setTimeout(() => driver.abort(new Error('the driver closed the call')), 10);
    expect((await pending as ProviderError).code).toBe('Cancelled');
  });

  it('a good Mount through the handler answers the files', async () => {
    const w = world();
    w.aws.putSecret(PRIMARY, 'db', 's3cret');
    const response = await handlerOf(w, 60_000)(request(w, sm('db'), { parameters: region() }), new AbortController().signal, 0);
    expect(response.files.map((f) => f.path)).toEqual(['db']);
  });
});

describe('the table covers every error code', () => {
  it('each ErrorCode is the expected outcome of at least one case', () => {
    // Every code, checked by the compiler: a new ErrorCode fails to compile here until it is listed.
    const every = {
      InvalidMountRequest: 1, InvalidSecretProviderClass: 1, MissingServiceAccountToken: 1, InvalidServiceAccountToken: 1,
      MissingRoleAnnotation: 1, RegionNotFound: 1, CredentialsRefused: 1, CredentialsUnavailable: 1, AccessDenied: 1,
      ObjectNotFound: 1, DecryptionFailure: 1, InvalidObjectValue: 1, AwsClientError: 1, RegionUnavailable: 1,
      KubernetesUnavailable: 1, KubernetesNotFound: 1, KubernetesAccessDenied: 1, DeadlineExceeded: 1, Cancelled: 1,
      Internal: 1,
    } satisfies Record<ErrorCode, 1>;
    const codes = Object.keys(every);
    const covered = new Set<string>([...bad.map((c) => c.code), 'DeadlineExceeded', 'Cancelled']);
    expect(codes.filter((code) => !covered.has(code))).toEqual([]);
  });
});
