import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NodePki {
  /** Signs the kubelet's serving certificate and the apiserver's client certificate; kubelet trusts it for clients. */
  caFile: string;
  kubeletCertFile: string;
  kubeletKeyFile: string;
  /** What the apiserver shows the kubelet (logs, exec): a system:masters client certificate. */
  apiserverClientCertFile: string;
  apiserverClientKeyFile: string;
}

/**
 * The test node's certificates, from a CA of its own: kubelet serves on 127.0.0.1 (the node's address), so the
 * apiserver verifies it there (--kubelet-certificate-authority), and kubelet authenticates the apiserver by its
 * client certificate.
 */
export async function makeNodePki(dir: string): Promise<NodePki> {
  await mkdir(dir, { recursive: true });
  const path = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '7', '-subj', '/CN=test-node-ca']);
  const sign = async (name: string, subject: string, ext: string[]) => {
    await run('openssl', ['req', ...ec, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject]);
    await writeFile(path(`${name}.ext`), ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment', ...ext].join('\n'));
    await run('openssl', ['x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.crt'), '-CAkey', path('ca.key'),
      '-CAcreateserial', '-days', '7', '-extfile', path(`${name}.ext`), '-out', path(`${name}.crt`)]);
  };
  await sign('kubelet', '/CN=test-node', ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth']);
  await sign('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', ['extendedKeyUsage=clientAuth']);
  return {
    caFile: path('ca.crt'),
    kubeletCertFile: path('kubelet.crt'),
    kubeletKeyFile: path('kubelet.key'),
    apiserverClientCertFile: path('apiserver-kubelet-client.crt'),
    apiserverClientKeyFile: path('apiserver-kubelet-client.key'),
  };
}
