import { invalidSpc } from '../errors.js';
import { optionalString } from './fields.js';
import type { ObjectEncoding } from './types.js';
import type { YamlValue } from './yamlTree.js';

/** The Azure provider's words, so that a SecretProviderClass for both clouds says it one way. */
const ENCODINGS: readonly ObjectEncoding[] = ['utf-8', 'base64', 'hex'];

/** `objectEncoding`, any case: undefined for utf-8 (the value is written as it is stored, as before the key existed). */
export function parseEncoding(value: YamlValue | undefined, where: string): Exclude<ObjectEncoding, 'utf-8'> | undefined {
  const text = optionalString(value, 'objectEncoding', where);
  if (text === undefined) return undefined;
  const encoding = ENCODINGS.find((name) => name === text.toLowerCase());
  if (encoding === undefined) {
    throw invalidSpc(
      `${where}: objectEncoding "${text}" is not an encoding. Use utf-8 (the value as stored), base64 or hex ` +
        '(the stored text is decoded and the bytes written).',
    );
  }
  return encoding === 'utf-8' ? undefined : encoding;
}
