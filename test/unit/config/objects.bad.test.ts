import { describe, expect, it } from 'vitest';
import { BAD_OBJECTS as cases } from './badObjects.js';
import { invalid, parse } from './request.js';

describe('objects: bad input is INVALID_ARGUMENT with a message naming the object and field', () => {
  it.each(cases)('$name', ({ objects, parameters, mentions }) => {
    const error = invalid(() => parse({ ...parameters, objects }));
    for (const text of mentions) expect(error.message).toContain(text);
  });

  it('has at least 50 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });
});
