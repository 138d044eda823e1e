import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Alias,
  type Document,
  type Node,
  type YAMLMap,
} from 'yaml';
import { invalidSpc } from '../errors.js';

/**
 * The `objects` YAML reduced to what the rules need: every scalar is a string exactly as written (or null), so
 * `objectVersion: 3` is "3" and an unquoted `filePermission: 0600` is "0600" — not the number YAML 1.2 makes
 * of it. Map keys keep their spelling and order; matching them is the caller's business.
 */
export type YamlValue = string | null | YamlValue[] | YamlMap;
export type YamlMap = Map<string, YamlValue>;

/** Anchors let a few lines expand into a huge tree; an object list is never anywhere near this. */
const MAX_NODES = 10_000;
/**
 * The yaml parser recurses once per nesting level. Near the stack limit V8 can abort the whole process (seen:
 * a fatal out-of-memory while compiling a regexp at ~1,000 levels), so deep input is refused before parsing.
 * Real object lists nest about four levels deep.
 */
const MAX_NESTING = 100;

export function isYamlMap(value: YamlValue | undefined): value is YamlMap {
  return value instanceof Map;
}

/** Parses one YAML document into a YamlValue; a syntax error names its line and column. */
export function parseYamlTree(source: string, what: string): YamlValue {
  checkNesting(source, what);
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const [error] = doc.errors;
  if (error) {
    const at = lineCounter.linePos(error.pos[0]);
    const where = ` at line ${at.line}, column ${at.col}`;
    const reason = error.message.split('\n')[0];
    throw invalidSpc(`${what}: YAML syntax error${where}: ${reason}. ${what} must be a YAML list of maps.`);
  }
  const budget: Budget = { left: MAX_NODES, what, open: new Set() };
  return toValue(doc.contents, doc, budget);
}

/**
 * A cheap upper bound of the nesting: block levels need at least one column of indentation or indicator
 * (`- `, `? `) each, and flow levels one bracket each (brackets inside quotes may over-count, which is harmless).
 */
function checkNesting(source: string, what: string): void {
  let flowDepth = 0;
  for (const line of source.split('\n')) {
    const lead = /^[ \t?:-]*/.exec(line)?.[0].length ?? 0;
    for (const char of line) {
      if (char === '[' || char === '{') flowDepth++;
      else if ((char === ']' || char === '}') && flowDepth > 0) flowDepth--;
      if (flowDepth > MAX_NESTING) break;
    }
    if (lead > 2 * MAX_NESTING || flowDepth > MAX_NESTING) {
      throw invalidSpc(`${what}: the YAML nests deeper than ${MAX_NESTING} levels. ${what} must be a YAML list of maps.`);
    }
  }
}

interface Budget {
  left: number;
  what: string;
  /** The collections being converted, outermost first: an alias to one of them would never end. */
  open: Set<Node>;
}

function toValue(node: Node | null | undefined, doc: Document, budget: Budget): YamlValue {
  if (--budget.left < 0) {
    throw invalidSpc(`${budget.what}: the YAML expands to more than ${MAX_NODES} nodes (too many aliases?).`);
  }
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toValue(resolveAlias(node, doc, budget), doc, budget);
  if (isScalar(node)) return scalarText(node.value, node.source);
  if (!isSeq(node) && !isMap(node)) return null;
  // Aliases can nest trees deeper than the text does; the same limit applies to what they expand to.
  if (budget.open.size >= 2 * MAX_NESTING) {
    throw invalidSpc(`${budget.what}: the YAML nests deeper than ${MAX_NESTING} levels (through aliases).`);
  }
  budget.open.add(node);
  const value = isSeq(node) ? node.items.map((item) => toValue(item as Node | null, doc, budget)) : toMap(node, doc, budget);
  budget.open.delete(node);
  return value;
}

function toMap(node: YAMLMap, doc: Document, budget: Budget): YamlMap {
  const map: YamlMap = new Map();
  for (const pair of node.items) {
    map.set(keyText(pair.key as Node | null, doc, budget), toValue(pair.value as Node | null, doc, budget));
  }
  return map;
}

function resolveAlias(alias: Alias, doc: Document, budget: Budget): Node | undefined {
  const target = alias.resolve(doc) as Node | undefined;
  if (target && budget.open.has(target)) {
    throw invalidSpc(`${budget.what}: the YAML alias *${alias.source} refers to a node that contains it.`);
  }
  return target;
}

function scalarText(value: unknown, source: string | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  return source ?? String(value);
}

/**
 * A key that is a map or a list (YAML's `? ` complex keys) is never a key we know, so it is named by its kind. Its
 * JSON text would double at each level of nesting (each level escapes the quotes of the one inside): 22 nested
 * `? ` took 8 s of the event loop, 48 ended in a RangeError.
 */
function keyText(node: Node | null, doc: Document, budget: Budget): string {
  const key = toValue(node, doc, budget);
  if (typeof key === 'string') return key;
  return key === null ? 'null' : key instanceof Map ? '{…}' : '[…]';
}
