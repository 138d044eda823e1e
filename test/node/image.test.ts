import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDockerfile } from '../integration/packaging/dockerfile.js';
import { coreV1, ensureNamespace } from '../harness/kube.js';
import { useNode } from '../harness/node/info.js';

const node = useNode();
const ROOT = new URL('../../', import.meta.url).pathname;
const NAMESPACE = 'node-image';

interface ImageConfig {
  architecture: string;
  os: string;
  config: { User?: string; Entrypoint?: string[]; WorkingDir?: string; Env?: string[]; Labels?: Record<string, string>; ExposedPorts?: Record<string, object> };
}

async function blob(digest: string): Promise<unknown> {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return JSON.parse(await readFile(join(node.images.providerLayout, 'blobs', algorithm, hex), 'utf8'));
}

/** The Dockerfile's runtime stage (its last FROM), as written. */
async function runtimeStage() {
  const instructions = parseDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
  const stage = instructions.slice(instructions.findLastIndex((i) => i.keyword === 'FROM'));
  const all = (keyword: string) => stage.filter((i) => i.keyword === keyword).map((i) => i.rest);
  return { from: stage[0]!.rest, all, last: (keyword: string) => all(keyword).at(-1) };
}

let config: ImageConfig;

beforeAll(async () => {
  const index = (await readFile(join(node.images.providerLayout, 'index.json'), 'utf8').then(JSON.parse)) as { manifests: { digest: string }[] };
  expect(index.manifests).toHaveLength(1);
  const manifest = (await blob(index.manifests[0]!.digest)) as { config: { digest: string } };
  config = (await blob(manifest.config.digest)) as ImageConfig;
  await ensureNamespace(NAMESPACE);
});

afterAll(() => coreV1().deleteNamespace({ name: NAMESPACE }).catch(() => undefined));

describe('the image npm run image builds, against the Dockerfile', () => {
  it("has the Dockerfile's user, entrypoint, workdir, env, labels and port", async () => {
    const dockerfile = await runtimeStage();
    expect(config.config.User).toBe(dockerfile.last('USER'));
    expect(config.config.Entrypoint).toEqual(JSON.parse(dockerfile.last('ENTRYPOINT')!));
    expect(config.config.WorkingDir).toBe(dockerfile.last('WORKDIR'));
    for (const env of dockerfile.all('ENV')) expect(config.config.Env).toContain(env);
    const version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(config.config.Labels).toMatchObject({ 'org.opencontainers.image.version': version, 'org.opencontainers.image.title': 'aws-secrets-csi-provider' });
    expect(Object.keys(config.config.ExposedPorts ?? {})).toEqual(dockerfile.all('EXPOSE').map((p) => `${p}/tcp`));
    expect(config.os).toBe('linux');
  });

  it("runs the Node.js major of the Dockerfile's runtime image, and the bundle answers --version, in a pod on the node", async () => {
    const dockerfile = await runtimeStage();
    // The runtime image the Dockerfile names: distroless nodejs<major>.
    const runtimeImage = /^ARG RUNTIME_IMAGE=(\S+)$/m.exec(await readFile(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    const major = /nodejs(\d+)-/.exec(runtimeImage ?? '')?.[1];
    expect(major, `the Dockerfile's RUNTIME_IMAGE ${runtimeImage}`).toMatch(/^\d+$/);
    const [nodeBinary, ...rest] = JSON.parse(dockerfile.last('ENTRYPOINT')!) as string[];
    await coreV1().createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'version' },
        spec: {
          hostNetwork: true,
          restartPolicy: 'Never',
          containers: [
            // The image's own entrypoint with --version; then its node's version, with the same binary.
            { name: 'provider', image: node.images.provider, imagePullPolicy: 'Never', args: ['--version'] },
            { name: 'node', image: node.images.provider, imagePullPolicy: 'Never', command: [nodeBinary!, '--version'] },
          ],
        },
      },
    });
    expect(rest.at(-1)).toBe('/app/dist/src/main.js');
    const deadline = Date.now() + 120_000;
    let phase: string | undefined;
    while (Date.now() < deadline) {
      phase = (await coreV1().readNamespacedPod({ namespace: NAMESPACE, name: 'version' })).status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(phase).toBe('Succeeded');
    const log = (container: string) => coreV1().readNamespacedPodLog({ namespace: NAMESPACE, name: 'version', container });
    const version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(await log('provider')).toBe(`aws-secrets-csi-provider ${version}\n`);
    expect(await log('node')).toMatch(new RegExp(`^v${major}\\.\\d+\\.\\d+\\n$`));
  });
});
