import { isRegionalFault } from '../aws/errors.js';
import { isProviderError, ProviderError } from '../errors.js';

/**
 * An STS call tried region by region, in the Mount's order (region, then each failover region). Credentials from
 * any regional STS are valid in every region, so a regional fault (5xx, throttling that outlived the retries, a
 * timeout, a network failure) moves on to the next region, as ASCP's per-region STS clients do. A refusal, a
 * missing answer or the deadline is the answer: another region would not change it.
 */
export async function fromFirstHealthyRegion<T>(
  regions: readonly string[],
  call: (region: string) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  const failures: ProviderError[] = [];
  for (const region of regions) {
    try {
      return await call(region);
    } catch (err) {
      if (!isRegionalStsFailure(err) || signal.aborted) throw err;
      failures.push(err);
    }
  }
  if (failures.length === 1) throw failures[0]!;
  throw everyRegionFailed(regions, failures);
}

function isRegionalStsFailure(err: unknown): err is ProviderError {
  return isProviderError(err) && err.code === 'CredentialsUnavailable' && isRegionalFault(err.cause);
}

function everyRegionFailed(regions: readonly string[], failures: readonly ProviderError[]): ProviderError {
  return new ProviderError(
    'CredentialsUnavailable',
    `STS failed in every region tried (${regions.join(', ')}): ${failures.map((f) => f.message).join(' | ')}`,
    { cause: failures[0]!.cause },
  );
}
