/**
 * `objectEncoding`: the stored text is base64 or hex and the file gets its bytes (a keystore, a DER certificate).
 * Node's own decoders skip what they do not understand, so a value that is not what the object says would be
 * written as other bytes without a word; here it is refused instead. Whitespace is ignored (`base64` and `xxd -p`
 * wrap their lines); base64 takes the standard and the URL-safe alphabet, padded or not.
 */

const WHITESPACE = /[\t\n\r ]/g;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** The decoded bytes, or undefined when the text is not in that encoding. */
export function decodeText(value: Buffer | string, encoding: 'base64' | 'hex'): Buffer | undefined {
  const text = (typeof value === 'string' ? value : value.toString('latin1')).replace(WHITESPACE, '');
  if (encoding === 'hex') return HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
  const padded = text.endsWith('=');
  // A padded text is whole groups of four; one character left over is never a whole byte.
  if (!BASE64.test(text) || (padded ? text.length % 4 !== 0 : text.length % 4 === 1)) return undefined;
  return Buffer.from(text, 'base64');
}

/** How messages say what the value was expected to be. */
export function encodingName(encoding: 'base64' | 'hex'): string {
  return encoding === 'base64' ? 'base64' : 'hexadecimal';
}
