import { describe, expect, it } from 'vitest';
import { below } from '../../../src/aws/wildcards.js';

describe('below: the name of a match under its wildcard', () => {
  it('is the rest of the name after the path or prefix, leading "/" dropped', () => {
    expect(below('/app/prod/db', { prefix: '/app/prod/', recursive: false })).toBe('db');
    expect(below('/app/prod/db/url', { prefix: '/app/prod/', recursive: true })).toBe('db/url');
    expect(below('/top', { prefix: '/', recursive: false })).toBe('top');
    expect(below('prod/app/x', { prefix: 'prod/app', recursive: false })).toBe('x');
    expect(below('prod/apple', { prefix: 'prod/app', recursive: false })).toBe('le');
  });

  it('is no match for another path, another case, or a name deeper than one level under *', () => {
    expect(below('/app/prodx/db', { prefix: '/app/prod/', recursive: true })).toBeUndefined();
    expect(below('PROD/app/x', { prefix: 'prod/app/', recursive: true })).toBeUndefined();
    expect(below('/app/prod/db/url', { prefix: '/app/prod/', recursive: false })).toBeUndefined();
  });
});
