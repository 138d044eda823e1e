/**
 * Bad input at scale: generators of MountRequests (valid SecretProviderClasses of test/fixtures/spc, mutated in
 * structure and in text, and plain random ones) and the property every one must satisfy in the Mount pipeline up
 * to the first network call (parse → region → ARN regions) and in the pure stages after it (extract, render).
 * Shared by the unit test (a modest run) and `npm run fuzz` (a large one).
 */
import { readdirSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { parseMountRequest, type MountRequestFields } from '../../src/config/mountRequest.js';
import { checkArnRegions } from '../../src/config/objects.js';
import type { MountConfig } from '../../src/config/types.js';
import { ProviderError } from '../../src/errors.js';
import { extractJmesPath } from '../../src/files/extract.js';
import { JMESPATH_LIMITS, refusalError } from '../../src/files/jmespathWorkers.js';
import { renderFiles } from '../../src/files/render.js';
import type { ClusterReader } from '../../src/k8s/cluster.js';
import { resolveRegion } from '../../src/mount/region.js';
import { readSpcFixture } from '../fixtures/spcFiles.js';

/** Planted in every token and every synthetic value: it must never come back in an error message. */
export const SECRET_MARKER = 'S3CR3T-MARKER-7f1c';
const PROVIDER_REGION = 'us-east-1';
const TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';

const POD = {
  secretProviderClass: 'spc',
  'csi.storage.k8s.io/pod.name': 'web-0',
  'csi.storage.k8s.io/pod.namespace': 'shop',
  'csi.storage.k8s.io/pod.uid': '2b1f0c3e-0000-4000-8000-000000000001',
  'csi.storage.k8s.io/serviceAccount.name': 'web',
  'csi.storage.k8s.io/ephemeral': 'false',
};
const TOKENS = JSON.stringify({
  'sts.amazonaws.com': { token: `eyJ.${SECRET_MARKER}.sig`, expirationTimestamp: '2030-01-01T00:00:00Z' },
});

/** The SecretProviderClasses of the user guide and the driver's suite, as the cluster holds them. */
export const FIXTURE_PARAMETERS: Record<string, string>[] = readdirSync(new URL('../fixtures/spc/', import.meta.url))
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .map((file) => readSpcFixture(file).parameters);

// ---------------------------------------------------------------------------------------------------------------
// Mutations of the objects tree

const KEYS = ['objectName', 'objectType', 'objectAlias', 'objectVersion', 'objectVersionLabel', 'filePermission',
  'jmesPath', 'failoverObject', 'path', 'ObjectAlias', 'Path', 'OBJECTNAME', 'objectAliass', 'junk', ''];

const PATH_TRICKS = ['..', '.', '/', '../../etc/passwd', 'a/../../b', 'a//b', '/abs', './x', 'x/.', 'a\\b', 'a\u0000b',
  'nul\u0000', 'x'.repeat(256), `${'d/'.repeat(100)}f`, 'CON', ' ', '\t', '\n', '~', '$(id)', '*', '?', 'é/ü/名前',
  '\u202e', '\ud83d\ude00', '%2e%2e', 'a:b'];

const WEIRD_SCALARS: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...PATH_TRICKS),
  fc.constantFrom('secretsmanager', 'ssmparameter', 'SecretsManager', 'ssm', '0600', '0777', '777', '0999', '-1',
    'true', 'null', '~', '3', '00', 'AWSCURRENT', 'username', 'a[0', '`', '@', 'length(@)',
    'arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf', 'arn:aws:ssm:us-east-1:1:parameter/p',
    'arn:aws:ssm:eu-west-1:1:parameter', 'arn:aws:s3:::b', 'arn:', 'arn:aws:secretsmanager:us-east-2:1:secret:y'),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.nat({ max: 2 }).map((n) => 'x'.repeat([300, 5000, 70_000][n]!)),
);

/** A value nested `depth` levels deep, in lists or maps: the parser must refuse it or survive it. */
const deepNesting = fc.tuple(fc.integer({ min: 1, max: 160 }), fc.boolean()).map(([depth, asMap]) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = asMap ? { k: value } : [value];
  return value;
});

type Tree = unknown;
type Mutation = (tree: Tree, pick: () => number) => Tree;

/** Every map and list inside a tree, so a mutation can aim anywhere. */
function containers(tree: Tree, out: (Record<string, unknown> | unknown[])[] = []): (Record<string, unknown> | unknown[])[] {
  if (Array.isArray(tree)) {
    out.push(tree);
    for (const item of tree) containers(item, out);
  } else if (tree !== null && typeof tree === 'object') {
    out.push(tree as Record<string, unknown>);
    for (const value of Object.values(tree)) containers(value, out);
  }
  return out;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // Drop a key or an item.
  fc.constant<Mutation>((tree, pick) => {
    const all = containers(tree);
    const target = all[pick() % all.length];
    if (Array.isArray(target)) target.splice(pick() % (target.length + 1), 1);
    else if (target) delete target[Object.keys(target)[pick() % Math.max(1, Object.keys(target).length)] ?? ''];
    return tree;
  }),
  // Rename a key (case, typo, a key of another level, empty).
  fc.constantFrom(...KEYS).map<Mutation>((name) => (tree, pick) => {
    const maps = containers(tree).filter((c) => !Array.isArray(c)) as Record<string, unknown>[];
    const target = maps[pick() % Math.max(1, maps.length)];
    const key = target && Object.keys(target)[pick() % Math.max(1, Object.keys(target).length)];
    if (target && key !== undefined) {
      const value = target[key];
      delete target[key];
      target[name] = value;
    }
    return tree;
  }),
  // Set a key (or replace an item) with a value of any type, a path trick, a huge string or deep nesting.
  fc.tuple(fc.constantFrom(...KEYS), fc.oneof(WEIRD_SCALARS, deepNesting, fc.jsonValue({ maxDepth: 3 }))).map<Mutation>(
    ([key, shared]) =>
      (tree, pick) => {
        // Generated values may be shared instances (fc.constant): a copy, or a later mutation could make a cycle.
        const value = structuredClone(shared);
        const all = containers(tree);
        const target = all[pick() % Math.max(1, all.length)];
        if (Array.isArray(target)) target[pick() % (target.length + 1)] = value;
        else if (target) target[key] = value;
        else return value;
        return tree;
      },
  ),
  // Duplicate an entry (same file twice), or the whole list.
  fc.constant<Mutation>((tree) => (Array.isArray(tree) && tree.length > 0 ? [...tree, structuredClone(tree[0])] : tree)),
  // Replace the whole tree.
  fc.oneof(WEIRD_SCALARS, deepNesting).map<Mutation>((value) => () => structuredClone(value)),
);

/** YAML text edits: the syntax a person (or a template engine) gets wrong. */
const YAML_SNIPPETS = [': ', '- ', '-', ':', '&a ', '*a', '*b', '&a [*a]', '!!binary ', '!!str ', '!!map ', '!custom ', '{', '}',
  '[', ']', '|', '>-', '%YAML 1.1\n', '---\n', '...\n', '\t', '#', '"', "'", '\\', '? ', ',', '\n', '\n  ', '\r\n', '\u0000',
  '\ufeff', '<<: *a\n', '@', '`', '%', '!', '0x1F', '0o17', '.inf', '.nan', '2001-12-14', 'null', '~', '\u2028'];

const textEdit = fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.oneof(fc.constantFrom(...YAML_SNIPPETS), fc.string({ maxLength: 4 })));

function applyTextEdits(text: string, edits: [number, number, string][]): string {
  return edits.reduce((acc, [at, kind, chunk]) => {
    const i = at % (acc.length + 1);
    if (kind === 0) return acc.slice(0, i) + acc.slice(i + 1 + (at % 7));
    if (kind === 1) return acc.slice(0, i) + chunk + acc.slice(i);
    if (kind === 2) return acc.slice(0, i) + chunk + acc.slice(i + chunk.length);
    return acc.slice(0, i) + chunk.repeat(1 + (at % 50)) + acc.slice(i);
  }, text);
}

// ---------------------------------------------------------------------------------------------------------------
// Whole requests

const REGIONS = fc.constantFrom(undefined, '', 'us-east-1', 'us-east-2', 'eu-west-1', 'US-EAST-1', 'us east 1', 'x'.repeat(300), '../x');

const someParameterEdits = fc.record(
  {
    region: REGIONS,
    failoverRegion: REGIONS,
    pathTranslation: fc.constantFrom(undefined, '', '_', 'False', 'false', 'FALSE', 'True', '/', '.', '..', 'xx', '\u0000', '名'),
    usePodIdentity: fc.constantFrom(undefined, '', 'true', 'false', 'TRUE', 'yes', '1', '2'),
    preferredAddressType: fc.constantFrom(undefined, '', 'ipv4', 'ipv6', 'auto', 'IPV6', 'ipv5'),
    assumeRoleArn: fc.constantFrom(undefined, '', 'arn:aws:iam::111122223333:role/x', 'arn:aws:iam::1:user/x', 'nope'),
    assumeRoleDurationSeconds: fc.constantFrom(undefined, '900', '3600', '43200', '899', '1e3', '-1', ''),
    Region: fc.constantFrom(undefined, 'us-east-1'),
    failOverRegion: fc.constantFrom(undefined, 'us-west-2'),
  },
  { requiredKeys: [] },
);
/** Usually none, so that a mutation elsewhere is not always hidden behind a bad parameter. */
const parameterEdits = fc.option(someParameterEdits, { freq: 2, nil: {} });

/** The rest of the request: permission, secrets, the tokens attribute and pod keys, sometimes broken. */
const requestEdits = fc.record(
  {
    permission: fc.oneof(fc.constantFrom('420', '0', '511', '512', '-1', '0644', '420.0', '', ' 420', '1e2', 'NaN'), fc.string({ maxLength: 6 })),
    secrets: fc.oneof(fc.constantFrom('null', '', '{}', '[]', '"x"', '{"a":1}', 'nul', `{"${TOKENS_KEY}":${JSON.stringify(TOKENS)}}`), fc.string({ maxLength: 30 })),
    tokens: fc.oneof(fc.constantFrom(undefined, TOKENS, '', '{}', '[]', 'null', `{"sts.amazonaws.com":{"token":""}}`,
      `{"sts.amazonaws.com":{"token":"${SECRET_MARKER}","expirationTimestamp":5}}`, `{"sts.amazonaws.com":"${SECRET_MARKER}"}`,
      `${SECRET_MARKER}{`)),
    dropPodKey: fc.constantFrom(undefined, ...Object.keys(POD)),
    extraAttribute: fc.tuple(fc.string({ maxLength: 40 }), fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 }))),
  },
  { requiredKeys: [] },
);

function buildRequest(
  parameters: Record<string, string | undefined>,
  objects: string | undefined,
  edits: {
    permission?: string;
    secrets?: string;
    tokens?: string | undefined;
    dropPodKey?: string | undefined;
    extraAttribute?: [string, unknown];
  },
): MountRequestFields {
  const attributes: Record<string, unknown> = { ...POD, [TOKENS_KEY]: TOKENS };
  for (const [key, value] of Object.entries(parameters)) if (value !== undefined) attributes[key] = value;
  if (objects !== undefined) attributes.objects = objects;
  if ('tokens' in edits) {
    if (edits.tokens === undefined) delete attributes[TOKENS_KEY];
    else attributes[TOKENS_KEY] = edits.tokens;
  }
  if (edits.dropPodKey) delete attributes[edits.dropPodKey];
  if (edits.extraAttribute) attributes[edits.extraAttribute[0]] = edits.extraAttribute[1];
  return {
    attributes: JSON.stringify(attributes),
    secrets: edits.secrets ?? 'null',
    targetPath: '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/secrets/mount',
    permission: edits.permission ?? '420',
  };
}

/** A well-formed request around the given objects text (the hostile shapes of hostileInputs.ts). */
export function requestWithObjects(objects: string): MountRequestFields {
  return buildRequest({ region: PROVIDER_REGION }, objects, {});
}

const fixture = fc.constantFrom(...FIXTURE_PARAMETERS);

/** A fixture SPC whose objects tree went through 1–4 structural mutations. */
const structurallyMutated = fc
  .tuple(fixture, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.infiniteStream(fc.nat()), parameterEdits)
  .map(([spc, mutations, numbers, edits]) => {
    const picks = numbers[Symbol.iterator]();
    const pick = () => picks.next().value as number;
    let tree: Tree = parse(spc.objects ?? '[]');
    for (const mutate of mutations) tree = mutate(tree, pick);
    let objects: string;
    try {
      objects = stringify(tree, { aliasDuplicateObjects: false });
    } catch {
      objects = JSON.stringify(tree) ?? 'null';
    }
    return buildRequest({ ...spc, objects: undefined, ...edits }, objects, {});
  });

/** A fixture SPC whose objects text went through YAML syntax edits. */
const textuallyMutated = fc
  .tuple(fixture, fc.array(textEdit, { minLength: 1, maxLength: 6 }), parameterEdits)
  .map(([spc, edits, parameters]) => buildRequest({ ...spc, objects: undefined, ...parameters }, applyTextEdits(spc.objects ?? '', edits), {}));

/** A fixture SPC, intact, with the request around it broken. */
const requestMutated = fc
  .tuple(fixture, requestEdits, parameterEdits)
  .map(([spc, edits, parameters]) => buildRequest({ ...spc, objects: undefined, ...parameters }, spc.objects, edits));

/** Random YAML trees with the real keys. */
const { tree: randomTree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small' }, WEIRD_SCALARS, fc.array(tie('tree'), { maxLength: 3 }), tie('map')),
  map: fc.dictionary(fc.constantFrom(...KEYS), tie('tree'), { maxKeys: 5 }),
}));
const randomObjects = fc
  .tuple(fc.array(randomTree, { minLength: 0, maxLength: 4 }), parameterEdits)
  .map(([items, parameters]) => buildRequest(parameters, stringify(items), {}));

/** Anything at all in every wire field. */
const randomWire = fc.record({
  attributes: fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 30 })).map((d) => JSON.stringify({ ...POD, ...d }))),
  secrets: fc.oneof(fc.string({ maxLength: 50 }), fc.jsonValue().map((v) => JSON.stringify(v))),
  targetPath: fc.string({ maxLength: 50 }),
  permission: fc.string({ maxLength: 6 }),
});

/** Every kind of input, weighted toward the mutated fixtures, which reach the deepest rules. */
export const mountRequestArb: fc.Arbitrary<MountRequestFields> = fc.oneof(
  { arbitrary: fixture.map((spc) => buildRequest(spc, undefined, {})), weight: 1 },
  { arbitrary: structurallyMutated, weight: 4 },
  { arbitrary: textuallyMutated, weight: 3 },
  { arbitrary: requestMutated, weight: 2 },
  { arbitrary: randomObjects, weight: 2 },
  { arbitrary: randomWire, weight: 1 },
);

/** Synthetic fetched values: JSON documents (for jmesPath) or raw bytes, each carrying the marker. */
export const valueArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify({ v, username: SECRET_MARKER, password: SECRET_MARKER }))),
  fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(`${JSON.stringify(v)}${SECRET_MARKER}`)),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from(b), Buffer.from(SECRET_MARKER)])),
);

// ---------------------------------------------------------------------------------------------------------------
// The property

/** A cluster the pre-network stages must never call: the provider region is always known here. */
const NO_CLUSTER: ClusterReader = {
  serviceAccountRoleArn: () => Promise.reject(new Error('the fuzzed pipeline called the Kubernetes API')),
  podNodeRegion: () => Promise.reject(new Error('the fuzzed pipeline called the Kubernetes API')),
};

export type Verdict = { kind: 'config'; files: number } | { kind: 'rejected'; code: string };

/** Why an outcome breaks the rules, or undefined when it keeps them. */
function violation(err: unknown, allowed: readonly status[]): string | undefined {
  if (!(err instanceof ProviderError)) {
    return `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} instead of a ProviderError`;
  }
  if (!allowed.includes(err.grpcStatus)) return `ProviderError ${err.code} with gRPC status ${err.grpcStatus}`;
  if (err.message.includes(SECRET_MARKER)) return `ProviderError ${err.code} quotes a token or value: ${err.message.slice(0, 200)}`;
  // The message travels as a gRPC trailer: grpc-js clients take 8 KiB of metadata by default.
  if (Buffer.byteLength(err.message) > 8192) return `ProviderError ${err.code} message of ${err.message.length} characters`;
  return undefined;
}

function checkRendered(config: MountConfig, files: { path: string; mode: number }[], versions: unknown[]): string | undefined {
  if (files.length === 0 || versions.length !== files.length) return `${files.length} files, ${versions.length} versions`;
  const seen = new Set<string>();
  for (const file of files) {
    const parts = file.path.split('/');
    if (file.path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) return `unsafe path ${JSON.stringify(file.path)}`;
    if (seen.has(file.path)) return `duplicate path ${JSON.stringify(file.path)}`;
    seen.add(file.path);
    if (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o777) return `mode ${file.mode}`;
  }
  if (config.objects.length === 0) return 'a config without objects';
  return undefined;
}

/**
 * Runs the request through every stage before the network (parse, region, ARN regions) and, for a valid config,
 * through extract and render with synthetic values. Resolves with the verdict, or rejects with what broke.
 */
export async function checkMountInput(request: MountRequestFields, values: Buffer[]): Promise<Verdict> {
  let config: MountConfig;
  try {
    config = parseMountRequest(request);
    const region = await resolveRegion(config, PROVIDER_REGION, NO_CLUSTER);
    checkArnRegions(config, region);
  } catch (err) {
    const broken = violation(err, [status.INVALID_ARGUMENT]);
    if (broken) throw new Error(broken, { cause: err });
    return { kind: 'rejected', code: (err as ProviderError).code };
  }
  const fetched = config.objects.map((spec, i) => ({ spec, value: values[i % values.length]!, version: String(i + 1) }));
  try {
    // What the provider's jmesPath worker does, in this thread.
    const extracted = fetched.map(({ spec, value }) => {
      const extraction = extractJmesPath(spec, value, JMESPATH_LIMITS.budgets);
      if ('refused' in extraction) throw refusalError(extraction.refused);
      return extraction.files;
    });
    const { files, versions } = renderFiles(fetched, extracted);
    const broken = checkRendered(config, files, versions);
    if (broken) throw new Error(`valid config, bad render: ${broken}`);
    return { kind: 'config', files: files.length };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('valid config, bad render')) throw err;
    const broken = violation(err, [status.INVALID_ARGUMENT]);
    if (broken) throw new Error(`render: ${broken}`, { cause: err });
    return { kind: 'rejected', code: (err as ProviderError).code };
  }
}

/** The fast-check property: the generated request and values, checked; verdicts are tallied by the caller. */
export function mountInputProperty(tally: (verdict: Verdict) => void, requests: fc.Arbitrary<MountRequestFields> = mountRequestArb) {
  return fc.asyncProperty(requests, fc.array(valueArb, { minLength: 1, maxLength: 4 }), async (request, values) => {
    tally(await checkMountInput(request, values));
  });
}
