import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  ApiextensionsV1Api,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/**
 * Installs the driver's CRDs (read from its module in the Go module cache) and waits until the apiserver
 * serves them. Installing twice is fine: an existing CRD is kept. The globalSetup calls it (so no import of
 * vitest here, nor of ../kube.js).
 */
export async function installDriverCrds(config: KubeConfig, crdFiles: string[], timeoutMs = 30_000): Promise<string[]> {
  const api = config.makeApiClient(ApiextensionsV1Api);
  const crds = crdFiles.flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8'))
      .map((doc) => doc.toJS() as V1CustomResourceDefinition | null)
      .filter((doc): doc is V1CustomResourceDefinition => doc?.kind === 'CustomResourceDefinition'),
  );
  if (crds.length !== crdFiles.length) {
    throw new Error(`expected one CustomResourceDefinition in each of ${crdFiles.join(', ')}, found ${crds.length}`);
  }
  const names: string[] = [];
  for (const crd of crds) {
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    }
    names.push(crd.metadata!.name!);
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      if (established) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
  return names;
}
