import { describe, expect, it } from 'vitest';
import { parseObjects } from '../../../src/config/objects.js';
import { invalidSpc } from '../../../src/errors.js';
import { SPOOFING_CHARACTERS, spoofingObjects } from '../../fixtures/hostileObjects.js';
import { invalid } from './request.js';

const ctx = { translation: '_', defaultMode: 0o644 } as const;
const codePoint = (char: string) => `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

describe('file names that could disguise themselves are refused, naming the object and the field', () => {
  for (const { name, char } of SPOOFING_CHARACTERS) {
    for (const { field, objects } of spoofingObjects(char)) {
      it(`${name} in ${field}`, () => {
        const message = invalid(() => parseObjects(objects, ctx)).message;
        expect(message).toMatch(field === 'jmesPath objectAlias' ? /^objects\[0\] "x" jmesPath\[0\] \(objectAlias "/ : /^objects\[0\] "/);
        expect(message).toContain(`(from ${field === 'objectName' ? 'objectName' : 'objectAlias'})`);
        expect(message).toContain(`it contains ${codePoint(char)}, a control, invisible or direction-changing character`);
        // The message shows the character as its code point, so the message itself cannot be disguised.
        expect(message).not.toContain(char);
        expect(message).toContain(`invoice<${codePoint(char)}>`);
      });
    }
  }

  it('names in other scripts, emoji and spaces are still file names', () => {
    const objects = '- objectName: x\n  objectType: secretsmanager\n  objectAlias: "名前 é 😀 a-b_c.txt"\n';
    expect(parseObjects(objects, ctx).objects[0]!.fileName).toBe('名前 é 😀 a-b_c.txt');
  });
});

describe('messages', () => {
  it('show control and direction-changing characters as code points, wherever they come from', () => {
    expect(invalidSpc('objects[0] "a\u202eb\u001b[2J": x\ny').message).toBe('objects[0] "a<U+202E>b<U+001B>[2J": x<U+000A>y');
  });
});
