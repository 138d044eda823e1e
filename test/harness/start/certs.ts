import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ApiserverPki {
  caFile: string;
  certFile: string;
  keyFile: string;
  serviceAccountKeyFile: string;
  serviceAccountPublicKeyFile: string;
}

/**
 * A throwaway CA with a serving certificate for every name a loopback client may use, and the key pair that signs
 * service account tokens (RSA: the signature every Kubernetes client expects).
 */
export async function makeApiserverPki(dir: string): Promise<ApiserverPki> {
  await mkdir(dir, { recursive: true });
  const path = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '7',
    '-subj', '/CN=peers-test-ca']);
  await run('openssl', ['req', ...ec, '-keyout', path('apiserver.key'), '-out', path('apiserver.csr'),
    '-subj', '/CN=kube-apiserver']);
  await writeFile(
    path('apiserver.ext'),
    [
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  await run('openssl', ['x509', '-req', '-in', path('apiserver.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'),
    '-CAcreateserial', '-days', '7', '-extfile', path('apiserver.ext'), '-out', path('apiserver.crt')]);
  await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path('sa.key')]);
  await run('openssl', ['pkey', '-in', path('sa.key'), '-pubout', '-out', path('sa.pub')]);
  return {
    caFile: path('ca.crt'),
    certFile: path('apiserver.crt'),
    keyFile: path('apiserver.key'),
    serviceAccountKeyFile: path('sa.key'),
    serviceAccountPublicKeyFile: path('sa.pub'),
  };
}
