/**
 * The floor under every mount latency: the same AWS calls a perfect provider would make, made directly with the
 * SDK through the same proxy and delay: STS, then the three fetch calls at once (a first mount), or just the
 * three fetch calls (a repeat mount). What is left of a provider's latency above it is the provider's own (and
 * the Kubernetes GET); what is in it is the injected delay plus moto's own time to answer, which on a loaded
 * machine is far from zero. A storm's first Mount must also read its ServiceAccount first: `chainMs` is that GET,
 * then the first mount's calls, the three round trips S2's target counts, as this machine makes them.
 */
import { BatchGetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { median } from './measure.js';
import { benchObjects } from './spc.js';
import { IRSA_AUDIENCE, REGION, type World } from './world.js';

export interface Floor {
  /** STS, then BatchGetSecretValue(20) ‖ GetParameters(10) ‖ GetParameters(10): median ms. */
  firstMs: number;
  /** The fetch wave alone: median ms. */
  repeatMs: number;
  /** The ServiceAccount GET (kept-alive connection, as the provider's), then STS, then the fetch wave: median ms. */
  chainMs: number;
  samples: number;
}

export async function measureFloor(world: World, samples: number): Promise<Floor> {
  const namespace = 'bench-floor';
  await world.ensureNamespace(namespace);
  const role = await world.serviceAccount(namespace, 'floor');
  const tokens = JSON.parse(await world.tokens(namespace, 'floor')) as Record<string, { token: string }>;
  const token = tokens[IRSA_AUDIENCE]!.token;
  const endpoint = world.proxy.url;
  const sts = new STSClient({ region: REGION, endpoint, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  const objects = benchObjects();
  const secretIds = objects.filter((o) => o.objectType === 'secretsmanager').map((o) => o.objectName);
  const names = objects.filter((o) => o.objectType === 'ssmparameter').map((o) => o.objectName);
  const first: number[] = [];
  const repeat: number[] = [];
  const chain: number[] = [];
  const serviceAccountPath = `/api/v1/namespaces/${namespace}/serviceaccounts/floor`;
  // The provider's connection to the apiserver is open long before a storm: so is this one.
  await world.kubeGet(serviceAccountPath);
  try {
    for (let i = 0; i < samples; i++) {
      const read = performance.now();
      await world.kubeGet(serviceAccountPath);
      const started = performance.now();
      const answer = await sts.send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: role, RoleSessionName: 'bench-floor', WebIdentityToken: token }),
      );
      const c = answer.Credentials!;
      const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
      const sm = new SecretsManagerClient({ region: REGION, endpoint, credentials });
      const ssm = new SSMClient({ region: REGION, endpoint, credentials });
      const wave = () =>
        Promise.all([
          sm.send(new BatchGetSecretValueCommand({ SecretIdList: secretIds })),
          ssm.send(new GetParametersCommand({ Names: names.slice(0, 10), WithDecryption: true })),
          ssm.send(new GetParametersCommand({ Names: names.slice(10), WithDecryption: true })),
        ]);
      await wave();
      first.push(performance.now() - started);
      chain.push(performance.now() - read);
      const again = performance.now();
      await wave();
      repeat.push(performance.now() - again);
      sm.destroy();
      ssm.destroy();
    }
  } finally {
    sts.destroy();
  }
  const round = (v: number) => Math.round(v * 10) / 10;
  return { firstMs: round(median(first)), repeatMs: round(median(repeat)), chainMs: round(median(chain)), samples };
}
