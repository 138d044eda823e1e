import { describe, expect, it } from 'vitest';
import { createSecret, putParameter } from '../../harness/moto.js';
import { PRIMARY, parameter, secret, useAwsTestBed } from './support.js';

const bed = useAwsTestBed();

describe('a Mount of secrets and parameters', () => {
  it('costs ceil(N/20) + ceil(M/10) calls plus one per pinned secret, all in flight together', async () => {
    const first = await createSecret(PRIMARY, 'app/pinned', 'old');
    await Promise.all([
      ...Array.from({ length: 41 }, (_, i) => createSecret(PRIMARY, `app/s${i}`, `s${i}`)),
      ...Array.from({ length: 11 }, (_, i) => putParameter(PRIMARY, `/app/p${i}`, `p${i}`)),
    ]);
    const objects = [
      ...Array.from({ length: 41 }, (_, i) => secret(i, { objectName: `app/s${i}` })),
      ...Array.from({ length: 11 }, (_, i) => parameter(41 + i, { objectName: `/app/p${i}` })),
      secret(52, { objectName: 'app/pinned', objectVersion: first.versionId }),
    ];
    // Every call waits 300 ms at the proxy: run one after another they would take 6 × 300 ms.
    bed.proxy.setFault({ kind: 'delay', ms: 300 });

    const started = Date.now();
    const fetched = await bed.fetch(objects);
    const elapsed = Date.now() - started;

    expect(fetched.map((f) => f.value.toString())).toEqual([
      ...Array.from({ length: 41 }, (_, i) => `s${i}`),
      ...Array.from({ length: 11 }, (_, i) => `p${i}`),
      'old',
    ]);
    const count = (action: string) => bed.calls({ action }).length;
    expect([count('BatchGetSecretValue'), count('GetParameters'), count('GetSecretValue')]).toEqual([3, 2, 1]);
    expect(elapsed).toBeLessThan(2 * 300 + 400);
  });
});
