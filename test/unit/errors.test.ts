import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors.js';

describe('ProviderError messages', () => {
  it('shortens a long quoted value and keeps short ones around it intact', () => {
    const long = 'n'.repeat(500);
    const filler = 'x'.repeat(300);
    const error = new ProviderError('InvalidSecretProviderClass', `objects[0] "db" ${filler} objects[1] "${long}" and "flag"`);
    expect(error.message).toContain('"db"');
    expect(error.message).toContain(filler);
    expect(error.message).toContain('"flag"');
    expect(error.message).toContain('(500 characters)');
    expect(error.message).not.toContain(long);
  });

  it('caps the whole message and keeps its end, where the fix is', () => {
    const error = new ProviderError('InvalidSecretProviderClass', `${'y'.repeat(10_000)} set objectAlias`);
    expect(error.message.length).toBeLessThanOrEqual(4000);
    expect(error.message.endsWith('set objectAlias')).toBe(true);
  });
});
