/**
 * `npm run demo`: the provider on a real example, on this machine. It starts the local AWS emulator (moto) and a
 * real kube-apiserver, seeds the secrets and parameters of the driver suite's SecretProviderClass
 * (test/fixtures/spc/05-driver-suite-basic.yaml), starts the provider, mounts that SecretProviderClass over the
 * provider's Unix socket exactly as the Secrets Store CSI driver would, and prints the files it got.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mountRequest } from '../fixtures/mountRequest.js';
import { readSpcFixture, withRealArns } from '../fixtures/spcFiles.js';
import { irsaServiceAccountTokens } from '../harness/irsaServiceAccount.js';
import { startProvider } from '../harness/provider.js';
import { startEtcd } from '../harness/start/etcd.js';
import { locateOnly } from '../harness/start/installEnv.js';
import { startKubeApiserver } from '../harness/start/kubeApiserver.js';
import { startMoto } from '../harness/start/moto.js';
import { stopAllPeers } from '../harness/start/process.js';

const SPC_FILE = '05-driver-suite-basic.yaml';
const NAMESPACE = 'demo';
const SERVICE_ACCOUNT = 'app';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/demo-app';

async function seedAws(motoUrl: string, region: string): Promise<Record<string, string>> {
  const config = { region, endpoint: motoUrl, credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' } };
  const sm = new SecretsManagerClient(config);
  const ssm = new SSMClient(config);
  await ssm.send(new PutParameterCommand({ Name: 'ParameterStoreTest1', Value: 'parameter one', Type: 'String' }));
  await ssm.send(
    new PutParameterCommand({ Name: 'ParameterStoreTestWithLongName', Value: 'parameter two', Type: 'SecureString' }),
  );
  await sm.send(new CreateSecretCommand({ Name: 'SecretsManagerTest1', SecretString: 'secret one' }));
  const second = await sm.send(new CreateSecretCommand({ Name: 'SecretsManagerTest2', SecretString: 'secret two' }));
  await sm.send(
    new CreateSecretCommand({
      Name: 'SecretsManagerJson',
      SecretString: JSON.stringify({ username: 'demo-user', password: 'demo-password' }),
    }),
  );
  return { SecretsManagerTest2: second.ARN! };
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const runDir = mkdtempSync(join(tmpdir(), 'provider-demo-'));
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir);
  try {
    const binaries = await locateOnly(['moto', 'etcd', 'kube-apiserver']);
    console.log('starting moto, etcd and kube-apiserver on 127.0.0.1 …');
    const moto = await startMoto(binaries.motoServer, logDir);
    const etcd = await startEtcd(binaries.etcd, runDir, logDir);
    const kube = await startKubeApiserver(binaries.kubeApiserver, etcd.url, runDir, logDir);

    const spc = readSpcFixture(SPC_FILE);
    const region = spc.parameters.region!;
    const arns = await seedAws(moto.url, region);
    const tokens = await irsaServiceAccountTokens(kube.kubeconfigPath, {
      namespace: NAMESPACE,
      name: SERVICE_ACCOUNT,
      roleArn: ROLE_ARN,
    });

    const provider = await startProvider({
      kubeconfigPath: kube.kubeconfigPath,
      env: { AWS_ENDPOINT_URL: moto.url },
    });
    try {
      console.log(`provider listening on ${provider.socketPath}; mounting test/fixtures/spc/${SPC_FILE} …\n`);
      const { objects, ...parameters } = spc.parameters;
      const response = await provider.client.mount(
        mountRequest({
          pod: { namespace: NAMESPACE, name: 'demo-pod', serviceAccountName: SERVICE_ACCOUNT },
          parameters,
          objects: withRealArns(objects ?? '', arns),
          tokens,
        }),
      );
      for (const file of response.files) {
        console.log(`${file.mode.toString(8).padStart(4, '0')}  ${file.path}\n      ${file.contents.toString('utf8')}`);
      }
      console.log('\nobject versions:');
      for (const version of response.objectVersion) console.log(`  ${version.id} = ${version.version}`);
    } finally {
      await provider.stop();
    }
    // Once it has stopped: a Mount's log line is written just after its answer, and the drain adds its own.
    console.log(`\nprovider log:\n${provider.output().trim()}`);
  } finally {
    await stopAllPeers();
    rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
