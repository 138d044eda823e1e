/**
 * Priming: one made-up Mount through the provider's own code, once, right after the start, with every edge that
 * would leave the process answered inside it (the SDK's request handler, the Kubernetes reads). Without it the first
 * real Mount of each process compiles that code while pods wait: ~50 ms for one pod, ~100 ms for the whole first
 * storm of a new node (README, Performance). Everything it builds is its own and dropped after, so no cache, client,
 * metric or log line of the provider sees it.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { inProcessAnswers } from '../aws/inProcessAnswers.js';
import { IRSA_AUDIENCE } from '../auth/irsa.js';
import { ROLE_ARN_ANNOTATION } from '../k8s/cluster.js';
import type { CoreApi } from '../k8s/coreApi.js';
import { loadProviderService, type MountRequestMessage } from '../server/proto.js';
import { createMountCore, type MountSettings } from './core.js';

const NAMESPACE = 'provider-priming';
const SERVICE_ACCOUNT = 'priming';
const REGION = 'us-east-1';
const ISSUER = 'https://provider-priming.invalid';

/**
 * The objects a made-up SecretProviderClass lists: one of each call the fetch makes. No jmesPath: it runs in a worker
 * thread that starts with the first Mount that needs it (src/files/jmespathWorkers.ts), and a provider whose pods use
 * none should not hold one (13 MB resident) for priming's sake.
 */
const OBJECTS = `
- objectName: priming/first
  objectType: secretsmanager
- objectName: priming/second
  objectType: secretsmanager
- objectName: priming/pinned
  objectType: secretsmanager
  objectVersion: 00000000-0000-4000-8000-000000000001
- objectName: /priming/parameter
  objectType: ssmparameter
`;

/**
 * Resolves with the number of files the made-up Mount rendered; rejects if any step of it failed. Its pipeline is
 * built as the provider's is (src/mount/core.ts), from the provider's settings, with caches of one entry: the
 * made-up SecretProviderClass is within any limit, and the checks themselves still run.
 */
export async function primeMountPath(settings: MountSettings, jmesPathWorker: URL): Promise<number> {
  // A signing key of its own, as a cluster's issuer has: the token is verified as every pod's is.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const coreApi = primingCoreApi(publicKey);
  const core = createMountCore(
    {
      ...settings,
      serviceAccountCacheSize: 1,
      credentialCacheSize: 1,
      credentialCacheNamespaceSize: 1,
      maxAnswerBytes: Number.MAX_SAFE_INTEGER,
      maxObjects: Number.MAX_SAFE_INTEGER,
    },
    {
      coreApi: () => Promise.resolve(coreApi),
      awsRequestHandler: inProcessAnswers(),
      // Never started: the priming objects have no jmesPath.
      jmesPathWorker,
      providerRegion: REGION,
    },
  );
  try {
    const { response } = await core.mount(primingRequest(privateKey), new AbortController().signal);
    // As the server would answer it: the protobuf encoding is part of every Mount too.
    loadProviderService().Mount!.responseSerialize(response);
    return response.files.length;
  } finally {
    await core.close();
  }
}

const primingCoreApi = (publicKey: KeyObject): CoreApi => ({
  readNamespacedServiceAccount: ({ namespace, name }) =>
    Promise.resolve({
      metadata: { namespace, name, annotations: { [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::111122223333:role/priming' } },
    }),
  readNamespacedPod: ({ namespace, name }) => Promise.resolve({ metadata: { namespace, name }, spec: { containers: [] } }),
  readNode: ({ name }) => Promise.resolve({ metadata: { name } }),
  getCode: () => Promise.reject(new Error('priming reads no version')),
  readOpenIdConfiguration: () => Promise.resolve({ issuer: ISSUER }),
  readOpenIdKeys: () => Promise.resolve({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'priming', use: 'sig' }] }),
});

/** The Mount request the driver would send for a pod of the made-up SecretProviderClass. */
function primingRequest(signingKey: KeyObject): MountRequestMessage {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const claims = { iss: ISSUER, aud: [IRSA_AUDIENCE], sub: `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`, exp };
  const signingInput = [{ alg: 'ES256', kid: 'priming' }, claims]
    .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
    .join('.');
  const signature = sign('sha256', Buffer.from(signingInput), { key: signingKey, dsaEncoding: 'ieee-p1363' });
  const token = `${signingInput}.${signature.toString('base64url')}`;
  const expirationTimestamp = new Date(exp * 1000).toISOString();
  return {
    attributes: JSON.stringify({
      secretProviderClass: 'priming',
      'csi.storage.k8s.io/pod.name': 'priming',
      'csi.storage.k8s.io/pod.namespace': NAMESPACE,
      'csi.storage.k8s.io/pod.uid': '00000000-0000-4000-8000-000000000000',
      'csi.storage.k8s.io/serviceAccount.name': SERVICE_ACCOUNT,
      'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({ [IRSA_AUDIENCE]: { token, expirationTimestamp } }),
      'csi.storage.k8s.io/ephemeral': 'false',
      region: REGION,
      objects: OBJECTS,
    }),
    secrets: 'null',
    targetPath: '/var/lib/kubelet/pods/00000000-0000-4000-8000-000000000000/volumes/kubernetes.io~csi/priming/mount',
    permission: '420',
    currentObjectVersion: [],
  };
}
