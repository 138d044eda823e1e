import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLAGS } from '../../../src/config/flags.js';

describe('the flags table in docs/operations.md', () => {
  it('documents every flag the provider takes, and no other', () => {
    const readme = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Provider flags'), readme.indexOf('\n## ', readme.indexOf('## Provider flags') + 1));
    const documented = new Set<string>();
    for (const row of section.split('\n').filter((line) => line.startsWith('| `--'))) {
      const cell = row.split('|')[1] ?? '';
      // "`--qps` / `--burst`" and "`--pod-identity-endpoint-ipv4` / `-ipv6`" name two flags in one row.
      const names = [...cell.matchAll(/`(--?[a-z0-9-]+)`/g)].map((m) => m[1] as string);
      const first = names[0]?.replace(/^--/, '') ?? '';
      for (const name of names) {
        documented.add(name.startsWith('--') ? name.slice(2) : first.replace(/-[a-z0-9]+$/, '') + name);
      }
    }
    expect([...documented].sort()).toEqual(Object.keys(FLAGS).sort());
  });
});
