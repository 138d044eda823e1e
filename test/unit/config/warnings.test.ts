import { describe, expect, it } from 'vitest';
import { parseObjects } from '../../../src/config/objects.js';
import { untypedObjects } from '../../fixtures/hostileObjects.js';
import { parse } from './request.js';

const ctx = { translation: '_', defaultMode: 0o644 } as const;

describe('one warning per Mount', () => {
  it('1,990 objects without objectType make one warning that counts them and names the first three', () => {
    const { warnings } = parseObjects(untypedObjects(1_990), ctx);
    expect(warnings).toEqual([
      '1990 objects have no objectType and an objectName that is not an ARN (objects[0] "untyped-0", objects[1] "untyped-1", ' +
        'objects[2] "untyped-2" and 1987 more); assuming secretsmanager. Set objectType (secretsmanager or ssmparameter) ' +
        'to be explicit; ASCP requires it.',
    ]);
  });

  it('a request of many misspelt parameters makes five warnings and a count of the rest', () => {
    const misspelt = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`regio${String.fromCharCode(97 + (i % 26))}${i}`, 'x']));
    const { warnings } = parse({ objects: untypedObjects(1), ...misspelt, Region: 'us-east-1' });
    expect(warnings.length).toBe(6);
    expect(warnings.at(-1)).toMatch(/^… and \d+ more warnings of the same kinds$/);
  });
});
