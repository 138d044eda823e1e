/**
 * Characters that make text look like other text: C0 and C1 controls (newlines and the ESC of ANSI escapes among
 * them), Unicode's line and paragraph separators, bidirectional controls (U+200E/F, U+061C, U+202A–U+202E,
 * U+2066–U+2069) and zero-width characters (U+200B–U+200D, U+2060, U+FEFF). In a file name they spoof `ls` and
 * pod events; in a message, the line the user reads.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const DECEPTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;
const DECEPTIVE_ALL = new RegExp(DECEPTIVE.source, 'g');

/** The code point as written in messages: U+202E. */
function codePoint(char: string): string {
  return `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The first deceptive character of the text as U+XXXX, or undefined if it has none. */
export function firstDeceptiveCharacter(text: string): string | undefined {
  const found = DECEPTIVE.exec(text);
  return found ? codePoint(found[0]) : undefined;
}

/** The text with each deceptive character shown as <U+XXXX>, so that it reads as what it is. */
export function showDeceptiveCharacters(text: string): string {
  return text.replace(DECEPTIVE_ALL, (char) => `<${codePoint(char)}>`);
}
