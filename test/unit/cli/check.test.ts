import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCheck } from '../../../src/cli/check.js';
import { BAD_OBJECTS, BAD_PARAMETERS, OBJECTS } from '../config/badObjects.js';
import { invalid, parse } from '../config/request.js';

const SPC_DIR = new URL('../../fixtures/spc/', import.meta.url);
const WORKER = new URL('../../../src/files/jmespathWorker.ts', import.meta.url);

/** Runs `check` in this process with `stdin`; what it printed and its exit status. */
async function check(args: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([stdin]),
  };
  const status = await runCheck(args, io, WORKER);
  return { status, stdout, stderr };
}

const spc = (name: string, parameters: Record<string, unknown>, provider = 'aws') =>
  stringify({
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name, namespace: 'shop' },
    spec: { provider, parameters },
  });

/** The pod event's text for these parameters: the code and message of the Mount's parse stage (test/unit/config/request.ts). */
function mountMessage(parameters: Record<string, string>): string {
  const error = invalid(() => parse(parameters));
  return `${error.code}: ${error.message}`;
}

const BAD = [
  ...BAD_OBJECTS.map(({ name, objects, parameters, mentions }) => ({ name, parameters: { ...parameters, objects }, mentions })),
  ...BAD_PARAMETERS,
];

describe('check: the user guide examples', () => {
  const files = readdirSync(SPC_DIR).filter((file) => file.endsWith('.yaml'));

  it.each(files)('%s is valid', async (file) => {
    const path = new URL(file, SPC_DIR).pathname;
    const { status, stdout } = await check([path]);
    expect(status).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${path} document 1 [\\w-]+: valid \\(\\d+ objects?, \\d+ files?\\)\\n$`));
  });

  it('takes every example in one call', async () => {
    const { status, stdout } = await check(files.map((file) => new URL(file, SPC_DIR).pathname));
    expect(status).toBe(0);
    expect(stdout.match(/: valid /g)).toHaveLength(files.length);
    expect(files.length).toBeGreaterThanOrEqual(5);
  });
});

describe('check: every bad input of the parse stage\'s tests gives the Mount\'s own message', () => {
  it.each(BAD)('$name', async ({ parameters, mentions }) => {
    const { status, stdout } = await check(['-'], spc('bad', parameters));
    expect(status).toBe(1);
    expect(stdout).toBe(`stdin document 1 shop/bad: ${mountMessage(parameters)}\n`);
    for (const text of mentions) expect(stdout).toContain(text);
  });

  it('reports each class of a multi-document file by its document, the valid ones too', async () => {
    const documents = [spc('first', { objects: OBJECTS }), ...BAD.map(({ parameters }, i) => spc(`bad-${i}`, parameters))];
    const { status, stdout } = await check(['-'], documents.join('---\n'));
    expect(status).toBe(1);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(BAD.length + 1);
    expect(lines[0]).toBe('stdin document 1 shop/first: valid (1 object, 1 file)');
    BAD.forEach(({ parameters }, i) =>
      expect(lines[i + 1]).toBe(`stdin document ${i + 2} shop/bad-${i}: ${mountMessage(parameters)}`),
    );
  });

  it('counts objects as a Mount does (--max-objects)', async () => {
    const objects = Array.from({ length: 257 }, (_, i) => `- objectName: s${i}\n  objectType: secretsmanager`).join('\n');
    const { status, stdout } = await check(['-'], spc('many', { objects }));
    expect(status).toBe(1);
    expect(stdout).toContain('objects lists 257 objects, more than the 256 one SecretProviderClass may mount (--max-objects)');
  });
});

describe('check: documents as kubectl writes them', () => {
  it('reads a List, checks its aws classes and warns about the others it skips', async () => {
    const list = stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { kind: 'SecretProviderClass', metadata: { name: 'a' }, spec: { provider: 'aws', parameters: { objects: OBJECTS } } },
        { kind: 'SecretProviderClass', metadata: { name: 'vault' }, spec: { provider: 'vault', parameters: { roleName: 'x' } } },
        { kind: 'ConfigMap', metadata: { name: 'c' } },
        { kind: 'SecretProviderClass', metadata: { name: 'b' }, spec: { provider: 'aws', parameters: { objects: '- objectName: x\n  objectType: ssm' } } },
      ],
    });
    const { status, stdout, stderr } = await check(['-'], list);
    expect(status).toBe(1);
    expect(stdout).toBe(
      'stdin document 1 items[0] a: valid (1 object, 1 file)\n' +
        `stdin document 1 items[3] b: ${mountMessage({ objects: '- objectName: x\n  objectType: ssm' })}\n`,
    );
    expect(stderr).toBe('stdin document 1 items[1] vault: warning: skipped, its provider is "vault", not aws\n');
  });

  it('skips other kinds and other providers; without an aws class it says so and passes', async () => {
    const text = [spc('azure', { keyvaultName: 'kv' }, 'azure'), stringify({ kind: 'Deployment', metadata: { name: 'd' } })].join('---\n');
    const { status, stdout, stderr } = await check(['-'], text);
    expect(status).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'stdin document 1 shop/azure: warning: skipped, its provider is "azure", not aws\n' +
        'warning: no SecretProviderClass with provider: aws found\n',
    );
  });

  it('prints the Mount\'s warnings and still passes', async () => {
    const { status, stderr } = await check(['-'], spc('typo', { objects: OBJECTS, Region: 'us-east-1' }));
    expect(status).toBe(0);
    expect(stderr).toContain('stdin document 1 shop/typo: warning: parameter "Region" is not one this provider reads');
  });

  it('names a parameter the apiserver would refuse (not a string)', async () => {
    const { status, stdout } = await check(['-'], spc('typed', { objects: OBJECTS, usePodIdentity: true }));
    expect(status).toBe(1);
    expect(stdout).toBe(
      'stdin document 1 shop/typed: spec.parameters.usePodIdentity is a boolean, and the apiserver takes strings only: ' +
        'quote it (e.g. "true"), or use a block string (|) for objects.\n',
    );
  });
});

describe('check: exit status 2', () => {
  it('for a file that cannot be read, after checking the others', async () => {
    const good = new URL('01-by-name-or-arn.yaml', SPC_DIR).pathname;
    const { status, stdout, stderr } = await check(['/nonexistent/spc.yaml', good]);
    expect(status).toBe(2);
    expect(stderr).toContain('/nonexistent/spc.yaml: cannot be read: ENOENT');
    expect(stdout).toContain(`${good} document 1 aws-secrets: valid`);
  });

  it('for input that is not YAML, naming the document', async () => {
    const { status, stderr } = await check([], `${spc('a', { objects: OBJECTS })}---\nkind: [\n`);
    expect(status).toBe(2);
    expect(stderr).toMatch(/^stdin document 2 is not YAML: .*line \d+, column \d+/);
  });

  it('for an unknown option or a --fetch option without --fetch, with the usage', async () => {
    for (const args of [['--fecth'], ['--region', 'us-east-1', 'x.yaml']]) {
      const { status, stderr } = await check(args);
      expect(status).toBe(2);
      expect(stderr).toContain('Usage: aws-secrets-csi-provider check');
    }
  });
});

it('check --help prints its usage and every option', async () => {
  const { status, stdout } = await check(['--help']);
  expect(status).toBe(0);
  for (const option of ['--fetch', '--region', '--profile', '--show-values', 'Exit status']) expect(stdout).toContain(option);
});
