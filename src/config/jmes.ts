import * as jmespath from 'jmespath';

/**
 * The one place that knows which JMESPath library we use, so swapping it touches nothing else.
 * `compile` is exported by jmespath.js but missing from its type definitions.
 */
const library = jmespath as unknown as {
  compile(expression: string): unknown;
  search(data: unknown, expression: string): unknown;
};

/** Why an expression does not compile (the library's own words, which quote only the expression), if it does not. */
export function jmesPathSyntaxError(expression: string): string | undefined {
  try {
    return hasHole(library.compile(expression)) ? 'an expression is missing (e.g. after a ".")' : undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

interface AstNode {
  type: string;
  name?: string;
  children?: unknown[];
}

/**
 * jmespath.js accepts some invalid expressions (`foo.`, `foo..bar`, `@(foo)`) and returns a tree with a
 * missing child, which fails only when evaluated. Catching them here makes them SecretProviderClass errors
 * found before any fetch. Slices are exempt: their missing start, stop and step are legitimate.
 */
function hasHole(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return false;
  const { type, name, children } = node as AstNode;
  if (type === 'Function' && name === undefined) return true;
  if (type === 'Slice' || !Array.isArray(children)) return false;
  return children.some((child) => child === null || child === undefined || hasHole(child));
}

export function searchJmesPath(data: unknown, expression: string): unknown {
  return library.search(data, expression);
}
