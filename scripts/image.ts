// npm run image [-- OUT_DIR]: the provider's image as an OCI archive, built without Docker from the Dockerfile's own
// steps (test/harness/node/image.ts), for a machine with the test peers (npm run peers) and no container engine.
// Load it with `ctr -n k8s.io images import --base-name localhost/aws-secrets-csi-provider OUT_DIR/aws-secrets-csi-provider.oci.tar`
// (or `skopeo copy oci-archive:… docker://…` to push it).
import { resolve } from 'node:path';
import { buildProviderImage } from '../test/harness/node/image.js';
import { locatePeers } from '../test/harness/start/installEnv.js';

const out = resolve(process.argv[2] ?? 'dist/image');
const image = await buildProviderImage(await locatePeers(), out);
console.log(`${image.archive} (tag ${image.tag}; OCI layout in ${image.layout})`);
