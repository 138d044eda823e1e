import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { inProcessAnswers } from '../../../src/aws/inProcessAnswers.js';
import { parseFlags } from '../../../src/config/flags.js';
import { primeMountPath } from '../../../src/mount/prime.js';

const JMESPATH_WORKER = new URL('../../../src/files/jmespathWorker.ts', import.meta.url);

describe('priming the Mount path', () => {
  it('renders every file of its made-up SecretProviderClass', async () => {
    // 4 objects: 2 batched secrets, a pinned secret, a parameter; no jmesPath, whose worker starts on first use.
    await expect(primeMountPath({ ...parseFlags([]), fetchConcurrency: 4 }, JMESPATH_WORKER)).resolves.toBe(4);
  });

  it('a call the in-process answers do not know is refused by name, not sent', async () => {
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDPRIMING', secretAccessKey: 'priming' },
      requestHandler: inProcessAnswers(),
      maxAttempts: 1,
    });
    await expect(client.send(new ListSecretsCommand({}))).rejects.toThrow('no in-process answer for secretsmanager.ListSecrets');
  });
});
