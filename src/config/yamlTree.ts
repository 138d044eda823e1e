import {
  Composer,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Alias,
  type Document,
  type Node,
  type YAMLMap,
} from 'yaml';
import { invalidSpc } from '../errors.js';
import { budgetedTokens, checkYamlSize, MAX_NESTING, MAX_NODES, type Position } from './yamlBudget.js';

/**
 * The `objects` YAML reduced to what the rules need: every scalar is a string exactly as written (or null), so
 * `objectVersion: 3` is "3" and an unquoted `filePermission: 0600` is "0600" — not the number YAML 1.2 makes
 * of it. Map keys keep their spelling and order; matching them is the caller's business.
 */
export type YamlValue = string | null | YamlValue[] | YamlMap;
export type YamlMap = Map<string, YamlValue>;

export function isYamlMap(value: YamlValue | undefined): value is YamlMap {
  return value instanceof Map;
}

const BOM = '\ufeff';

/**
 * Parses one YAML document into a YamlValue; a syntax error names its line and column. Every budget (size, then
 * nesting and nodes while the text is read, then nodes once aliases are expanded) is checked before the work it
 * bounds, so no input costs more than reading the largest list the budgets allow.
 */
export function parseYamlTree(source: string, what: string): YamlValue {
  checkYamlSize(source, what);
  // Editors on Windows save a byte order mark; it is not part of the YAML.
  const text = source.startsWith(BOM) ? source.slice(BOM.length) : source;
  const lineCounter = new LineCounter();
  const where: Position = (offset) => {
    const at = lineCounter.linePos(offset);
    return `line ${at.line}, column ${at.col}`;
  };
  // uniqueKeys is off: the library compares every key with every other (25,000 keys held the event loop for a
  // minute); the conversion below checks them in linear time.
  const composer = new Composer({ uniqueKeys: false });
  let doc: Document.Parsed | undefined;
  let secondDocument: number | undefined;
  for (const next of composer.compose(budgetedTokens(text, what, where, lineCounter.addNewLine), true, text.length)) {
    if (doc) {
      secondDocument = next.range[0];
      break;
    }
    doc = next;
  }
  // compose(…, forceDoc = true) makes a document of any text, an empty one included.
  if (!doc) throw new Error('the YAML composer made no document');
  const [error] = doc.errors;
  if (error) {
    const at = where(error.pos[0]);
    const reason = error.message.split('\n')[0];
    if (error.code === 'RESOURCE_EXHAUSTION') {
      // The library's code for a stack overflow while composing: the input nests too deeply, it is not malformed.
      throw invalidSpc(
        `${what}: the YAML nests too deeply for the provider to read (${reason}) at ${at}. ` +
          `${what} must be a YAML list of maps, which nests about four levels.`,
      );
    }
    throw invalidSpc(`${what}: YAML syntax error at ${at}: ${reason}. ${what} must be a YAML list of maps.`);
  }
  if (secondDocument !== undefined) {
    throw invalidSpc(
      `${what}: a second YAML document starts at ${where(secondDocument)} (after a "---" or "..." line). ` +
        `${what} must be one YAML list of maps.`,
    );
  }
  const conversion: Conversion = { left: MAX_NODES, what, where, open: new Set(), anchors: new Map(), expanding: 0 };
  return toValue(doc.contents, conversion);
}

interface Conversion {
  left: number;
  what: string;
  where: Position;
  /** The collections being converted, outermost first: an alias to one of them would never end. */
  open: Set<Node>;
  /**
   * Each anchor's latest node, in the order of the text, which is the order of the conversion: an alias means the
   * last anchor of its name before it. (yaml's Alias.resolve walks the whole document per alias: quadratic.)
   */
  anchors: Map<string, Node>;
  /** How many aliases are being expanded: anchors met inside an expansion were already met in the text. */
  expanding: number;
}

function toValue(node: Node | null | undefined, conversion: Conversion): YamlValue {
  if (--conversion.left < 0) {
    throw invalidSpc(
      `${conversion.what}: the YAML expands through its aliases (*name) to more than ${MAX_NODES} nodes. ` +
        'Write the objects out instead of repeating them through aliases.',
    );
  }
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return expandAlias(node, conversion);
  if (node.anchor !== undefined && conversion.expanding === 0) conversion.anchors.set(node.anchor, node);
  if (isScalar(node)) return scalarText(node.value, node.source);
  if (!isSeq(node) && !isMap(node)) return null;
  // Aliases can nest trees deeper than the text does; the same limit applies to what they expand to.
  if (conversion.open.size >= 2 * MAX_NESTING) {
    throw invalidSpc(`${conversion.what}: the YAML nests deeper than ${MAX_NESTING} levels (through aliases).`);
  }
  conversion.open.add(node);
  const value = isSeq(node) ? node.items.map((item) => toValue(item as Node | null, conversion)) : toMap(node, conversion);
  conversion.open.delete(node);
  return value;
}

function toMap(node: YAMLMap, conversion: Conversion): YamlMap {
  const map: YamlMap = new Map();
  for (const pair of node.items) {
    const keyNode = pair.key as Node | null;
    const key = keyText(keyNode, conversion);
    if (map.has(key)) {
      const at = keyNode?.range ? ` at ${conversion.where(keyNode.range[0])}` : '';
      throw invalidSpc(`${conversion.what}: the key "${key}"${at} appears twice in one map. Keep one.`);
    }
    map.set(key, toValue(pair.value as Node | null, conversion));
  }
  return map;
}

function expandAlias(alias: Alias, conversion: Conversion): YamlValue {
  const target = conversion.anchors.get(alias.source);
  if (target === undefined) {
    throw invalidSpc(`${conversion.what}: the YAML alias *${alias.source} names no anchor (&${alias.source}) before it.`);
  }
  if (conversion.open.has(target)) {
    throw invalidSpc(`${conversion.what}: the YAML alias *${alias.source} refers to a node that contains it.`);
  }
  conversion.expanding++;
  try {
    return toValue(target, conversion);
  } finally {
    conversion.expanding--;
  }
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
function keyText(node: Node | null, conversion: Conversion): string {
  const key = toValue(node, conversion);
  if (typeof key === 'string') return key;
  return key === null ? 'null' : key instanceof Map ? '{…}' : '[…]';
}
