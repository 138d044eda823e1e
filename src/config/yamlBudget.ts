import { CST, Lexer, Parser } from 'yaml';
import { invalidSpc } from '../errors.js';

/**
 * The most `objects` text a SecretProviderClass may hold. Real object lists are a few KiB (40 objects with
 * jmesPath entries: ~4 KiB); this is far above any, and small enough that reading it costs the event loop
 * little. Checked before anything else reads the text.
 */
export const MAX_OBJECTS_BYTES = 256 * 1024;
/** Keys, values, list items and collections; 1,000 objects of four fields each are 9,000. */
export const MAX_NODES = 10_000;
/**
 * Collections inside collections. yaml's composer recurses once per level, and near the stack limit V8 can abort
 * the whole process (seen: a fatal out-of-memory while compiling a regexp at ~1,000 levels). Real object lists
 * nest about four levels deep.
 */
export const MAX_NESTING = 100;

/** Refuses a text over MAX_OBJECTS_BYTES before any parse, saying how big it is. */
export function checkYamlSize(source: string, what: string): void {
  // Each UTF-16 unit is at most 3 UTF-8 bytes: most texts are decided without counting.
  if (source.length * 3 <= MAX_OBJECTS_BYTES) return;
  const bytes = Buffer.byteLength(source);
  if (bytes > MAX_OBJECTS_BYTES) {
    throw invalidSpc(
      `${what} is ${bytes} bytes, more than the ${MAX_OBJECTS_BYTES} bytes (256 KiB) it may hold. ` +
        'Split the objects across several SecretProviderClasses.',
    );
  }
}

/** Where a budget ran out: the offset in the text, for a line and column in the message. */
export type Position = (offset: number) => string;

/**
 * The CST tokens of `source`, made by yaml's own Lexer and Parser one lexical token at a time, for its Composer;
 * the nesting and node budgets are checked after each token, so an input over budget is refused before a
 * document of it is composed (the composer sees a document only once the parser has read all of it). Neither
 * the Lexer nor the Parser recurses per nesting level: the Lexer is a state machine and the Parser keeps its
 * open collections in `stack`, which is the nesting measured here. Quoted brackets and brackets in comments are
 * scalar and comment tokens, so they cannot hide a level.
 */
export function* budgetedTokens(source: string, what: string, where: Position, onNewLine: (offset: number) => void): Generator<CST.Token> {
  const parser = new Parser(onNewLine);
  onNewLine(0);
  const count = nodeCounter();
  for (const lexeme of new Lexer().lex(source)) {
    yield* parser.next(lexeme);
    if (nesting(parser.stack) > MAX_NESTING) {
      throw invalidSpc(
        `${what}: the YAML nests deeper than ${MAX_NESTING} levels (at ${where(parser.offset)}). ` +
          `${what} must be a YAML list of maps, which nests about four levels.`,
      );
    }
    if (count(lexeme) > MAX_NODES) {
      throw invalidSpc(
        `${what}: the YAML has more than ${MAX_NODES} nodes (keys, values and list items; the limit is reached at ` +
          `${where(parser.offset)}). Split the objects across several SecretProviderClasses.`,
      );
    }
  }
  yield* parser.end();
}

/** The collections open in the parser's stack, which also holds the document and a scalar being read. */
function nesting(stack: readonly CST.Token[]): number {
  // Only a stack near the limit is worth walking.
  if (stack.length <= MAX_NESTING) return 0;
  return stack.filter((token) => CST.isCollection(token)).length;
}

/**
 * Counts the nodes the composer will make, from lexical tokens: each scalar (plain and block scalars come as a
 * marker and then their text), alias, flow collection and block list item, and each empty key (`: v`). Empty
 * values and the block maps around keys are not counted, so a document has at most about twice the nodes counted;
 * the conversion counts exactly, aliases expanded.
 */
function nodeCounter(): (lexeme: string) => number {
  let nodes = 0;
  // A key was just read, so a `:` now ends it rather than standing for an empty one.
  let afterNode = false;
  // The lexeme after the scalar marker is the scalar's text, whatever it looks like.
  let scalarText = false;
  return (lexeme) => {
    if (scalarText) {
      scalarText = false;
      return nodes;
    }
    switch (CST.tokenType(lexeme)) {
      case 'scalar':
        scalarText = true;
        nodes++;
        afterNode = true;
        break;
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
      case 'alias':
        nodes++;
        afterNode = true;
        break;
      case 'flow-map-start':
      case 'flow-seq-start':
      case 'seq-item-ind':
        nodes++;
        afterNode = false;
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        afterNode = true;
        break;
      case 'map-value-ind':
        if (!afterNode) nodes++;
        afterNode = false;
        break;
      case 'comma':
      case 'explicit-key-ind':
        afterNode = false;
        break;
      default:
    }
    return nodes;
  };
}
