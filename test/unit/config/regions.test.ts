import { describe, expect, it } from 'vitest';
import { isKnownRegion, regionLabel } from '../../../src/config/regions.js';
import { ProviderMetrics } from '../../../src/observability/metrics.js';

describe('known regions (the AWS SDK partition data)', () => {
  it.each(['us-east-1', 'eu-west-3', 'ap-southeast-2', 'cn-north-1', 'us-gov-west-1'])('%s is known', (region) => {
    expect(isKnownRegion(region)).toBe(true);
    expect(regionLabel(region)).toBe(region);
  });

  it.each(['zz-1', 'zz-2999', 'us-mars-1', 'us-east-99', 'US-EAST-1', 'x'])('%s is not, and labels as other', (region) => {
    expect(isKnownRegion(region)).toBe(false);
    expect(regionLabel(region)).toBe('other');
  });

  it('keeps an empty failover region empty', () => {
    expect(regionLabel('')).toBe('');
  });
});

describe('region labels of the metrics', () => {
  it('writes every unknown region as other, so names that only look like regions add no series', async () => {
    const metrics = new ProviderMetrics();
    for (let i = 0; i < 500; i++) {
      metrics.awsCalls.inc({ service: 'secretsmanager', action: 'GetSecretValue', region: `zz-${i}`, outcome: 'ok' });
      metrics.awsRetries.inc({ service: 'secretsmanager', action: 'GetSecretValue', region: `zz-${i}` }, 2);
      metrics.failovers.inc({ region: 'us-east-1', failover_region: `zz-${i}` });
    }
    metrics.awsCalls.inc({ service: 'secretsmanager', action: 'GetSecretValue', region: 'eu-west-1', outcome: 'ok' });
    const calls = (await metrics.awsCalls.get()).values.map((v) => [v.labels.region, v.value]);
    expect(calls).toEqual([
      ['other', 500],
      ['eu-west-1', 1],
    ]);
    expect((await metrics.awsRetries.get()).values.map((v) => [v.labels.region, v.value])).toEqual([['other', 1000]]);
    expect((await metrics.failovers.get()).values.map((v) => v.labels)).toEqual([{ region: 'us-east-1', failover_region: 'other' }]);
  });
});
