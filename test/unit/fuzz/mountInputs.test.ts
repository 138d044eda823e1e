import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseObjects } from '../../../src/config/objects.js';
import { ProviderError } from '../../../src/errors.js';
import { hostileObjectsArb } from '../../fuzz/hostileInputs.js';
import { FIXTURE_PARAMETERS, mountInputProperty, requestWithObjects, type Verdict } from '../../fuzz/mountInputs.js';

/** `npm run fuzz` runs the same property on ≥ 100,000 inputs; this modest run keeps it honest in every test run. */
const RUNS = 2_000;

describe('bad input at scale: the Mount pipeline before the network', () => {
  it(`${RUNS} mutated and random requests: a valid config or an INVALID_ARGUMENT ProviderError, never a crash`, { timeout: 60_000 }, async () => {
    const verdicts: Verdict[] = [];
    await fc.assert(mountInputProperty((verdict) => verdicts.push(verdict)), { numRuns: RUNS });

    expect(verdicts).toHaveLength(RUNS);
    // The generators reach both sides: some inputs survive every rule, most are refused for many reasons.
    expect(verdicts.filter((v) => v.kind === 'config').length).toBeGreaterThan(RUNS / 50);
    const codes = new Set(verdicts.flatMap((v) => (v.kind === 'rejected' ? [v.code] : [])));
    expect(codes).toEqual(new Set(['InvalidSecretProviderClass', 'InvalidMountRequest', 'InvalidObjectValue']));
  });

  it('40 hostile shapes (issue 22): each a valid config or an InvalidSecretProviderClass refusal', { timeout: 120_000 }, async () => {
    const verdicts: Verdict[] = [];
    const requests = hostileObjectsArb.map(({ objects }) => requestWithObjects(objects));
    await fc.assert(mountInputProperty((verdict) => verdicts.push(verdict), requests), { numRuns: 40 });
    expect(verdicts).toHaveLength(40);
    // The property extracts the doubling jmesPath shapes from made-up values, which may not be JSON: InvalidObjectValue.
    const allowed = new Set(['InvalidSecretProviderClass', 'InvalidObjectValue']);
    expect(verdicts.filter((v) => v.kind === 'rejected' && !allowed.has(v.code))).toEqual([]);
  });

  it('starts from every SecretProviderClass fixture', () => {
    expect(FIXTURE_PARAMETERS.length).toBeGreaterThanOrEqual(5);
    for (const parameters of FIXTURE_PARAMETERS) expect(parameters.objects).toBeTruthy();
  });
});

describe('what npm run fuzz found', () => {
  it.each([10, 22, 48, 500])('%i nested YAML complex keys ("? ? … jmesPath:") name the key "{…}" instead of expanding it', (depth) => {
    const objects = `- objectName: "x"\n  ${'? '.repeat(depth)}jmesPath:\n    - path: username\n      objectAlias: u\n`;
    let error: unknown;
    try {
      parseObjects(objects, { translation: '_', defaultMode: 0o644 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).grpcStatus).toBe(status.INVALID_ARGUMENT);
    expect((error as ProviderError).message).toMatch(/unknown key "\{…\}"|nests deeper/);
  });
});
