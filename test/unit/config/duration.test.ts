import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../../src/config/duration.js';

describe('parseGoDuration', () => {
  it.each([
    ['250ms', 250],
    ['2s', 2000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['1h', 3_600_000],
    ['0', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '10', 'ms', '2 s', '5x', '1s garbage'])('rejects %j with an example of the form', (text) => {
    expect(() => parseGoDuration(text)).toThrow(/like 250ms, 2s or 1m30s/);
  });
});
