import { describe, expect, it } from 'vitest';
import { fromFirstHealthyRegion } from '../../../src/auth/regionalSts.js';
import { ProviderError } from '../../../src/errors.js';

/** What stsError makes of an STS 5xx (a regional fault) and of a refusal, for the region named. */
const unavailable = (region: string) =>
  new ProviderError('CredentialsUnavailable', `STS in ${region} failed: InternalFailure`, {
    cause: Object.assign(new Error('boom'), { name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 } }),
  });
const refused = (region: string) =>
  new ProviderError('CredentialsRefused', `STS in ${region} refused`, {
    cause: Object.assign(new Error('no'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } }),
  });

function regions(outcomes: Record<string, 'ok' | 'down' | 'refused'>) {
  const asked: string[] = [];
  const call = (region: string) => {
    asked.push(region);
    const outcome = outcomes[region];
    if (outcome === 'ok') return Promise.resolve(`credentials from ${region}`);
    return Promise.reject(outcome === 'down' ? unavailable(region) : refused(region));
  };
  return { asked, call };
}

describe('fromFirstHealthyRegion', () => {
  const signal = new AbortController().signal;

  it('asks the regions in order until one answers, on regional faults only', async () => {
    const { asked, call } = regions({ 'us-east-1': 'down', 'us-west-2': 'down', 'eu-west-1': 'ok', 'eu-central-1': 'ok' });
    await expect(fromFirstHealthyRegion(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1'], call, signal)).resolves.toBe(
      'credentials from eu-west-1',
    );
    expect(asked).toEqual(['us-east-1', 'us-west-2', 'eu-west-1']);
  });

  it('stops at a refusal: another region would not change it', async () => {
    const { asked, call } = regions({ 'us-east-1': 'refused', 'us-west-2': 'ok' });
    await expect(fromFirstHealthyRegion(['us-east-1', 'us-west-2'], call, signal)).rejects.toThrow('STS in us-east-1 refused');
    expect(asked).toEqual(['us-east-1']);
  });

  it('names every region and its cause when all fail; one region fails with its own error', async () => {
    const all = regions({ 'us-east-1': 'down', 'us-west-2': 'down' });
    const error = await fromFirstHealthyRegion(['us-east-1', 'us-west-2'], all.call, signal).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'CredentialsUnavailable',
      message: 'STS failed in every region tried (us-east-1, us-west-2): STS in us-east-1 failed: InternalFailure | STS in us-west-2 failed: InternalFailure',
    });
    const one = regions({ 'us-east-1': 'down' });
    await expect(fromFirstHealthyRegion(['us-east-1'], one.call, signal)).rejects.toThrow(/^STS in us-east-1 failed: InternalFailure$/);
  });

  it('asks no further region once the deadline has passed', async () => {
    const { asked, call } = regions({ 'us-east-1': 'down', 'us-west-2': 'ok' });
    await expect(fromFirstHealthyRegion(['us-east-1', 'us-west-2'], call, AbortSignal.abort())).rejects.toThrow('STS in us-east-1 failed');
    expect(asked).toEqual(['us-east-1']);
  });
});
