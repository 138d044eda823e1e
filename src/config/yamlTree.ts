import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
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

export function isYamlMap(value: YamlValue | undefined): value is YamlMap {
  return value instanceof Map;
}

/** Parses one YAML document into a YamlValue; a syntax error names its line and column. */
export function parseYamlTree(source: string, what: string): YamlValue {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const [error] = doc.errors;
  if (error) {
    const at = lineCounter.linePos(error.pos[0]);
    const where = ` at line ${at.line}, column ${at.col}`;
    const reason = error.message.split('\n')[0];
    throw invalidSpc(`${what}: YAML syntax error${where}: ${reason}. ${what} must be a YAML list of maps.`);
  }
  const budget = { left: MAX_NODES, what };
  return toValue(doc.contents, doc, budget);
}

interface Budget {
  left: number;
  what: string;
}

function toValue(node: Node | null | undefined, doc: Document, budget: Budget): YamlValue {
  if (--budget.left < 0) {
    throw invalidSpc(`${budget.what}: the YAML expands to more than ${MAX_NODES} nodes (too many aliases?).`);
  }
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toValue(node.resolve(doc) as Node | undefined, doc, budget);
  if (isSeq(node)) return node.items.map((item) => toValue(item as Node | null, doc, budget));
  if (isMap(node)) {
    const map: YamlMap = new Map();
    for (const pair of node.items) {
      map.set(keyText(pair.key as Node | null, doc, budget), toValue(pair.value as Node | null, doc, budget));
    }
    return map;
  }
  if (isScalar(node)) return scalarText(node.value, node.source);
  return null;
}

function scalarText(value: unknown, source: string | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  return source ?? String(value);
}

function keyText(node: Node | null, doc: Document, budget: Budget): string {
  const key = toValue(node, doc, budget);
  return typeof key === 'string' ? key : JSON.stringify(key instanceof Map ? Object.fromEntries(key) : key);
}
