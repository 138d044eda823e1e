import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseObjects } from '../../../src/config/objects.js';
import { MAX_NESTING, MAX_NODES, MAX_OBJECTS_BYTES } from '../../../src/config/yamlBudget.js';
import { parseYamlTree } from '../../../src/config/yamlTree.js';
import {
  blockNesting,
  commentBrackets,
  flowList,
  paddedObjects,
  quotedBrackets,
  wideMap,
} from '../../fixtures/hostileObjects.js';
import { invalid } from './request.js';

const ctx = { translation: '_', defaultMode: 0o644 } as const;
const refusal = (objects: string) => invalid(() => parseObjects(objects, ctx)).message;

describe('the size budget', () => {
  it(`takes ${MAX_OBJECTS_BYTES} bytes, the documented 256 KiB`, () => {
    expect(MAX_OBJECTS_BYTES).toBe(256 * 1024);
    expect(parseObjects(paddedObjects(MAX_OBJECTS_BYTES), ctx).objects).toHaveLength(1);
  });

  it('refuses one byte more, saying how big the text is and what the limit is', () => {
    const message = refusal(paddedObjects(MAX_OBJECTS_BYTES + 1));
    expect(message).toContain(`objects is ${MAX_OBJECTS_BYTES + 1} bytes`);
    expect(message).toContain('more than the 262144 bytes (256 KiB)');
  });

  it('counts UTF-8 bytes, not characters', () => {
    const text = `- objectName: x\n# ${'é'.repeat(MAX_OBJECTS_BYTES / 2)}`;
    expect(text.length).toBeLessThan(MAX_OBJECTS_BYTES);
    expect(refusal(text)).toContain(`objects is ${Buffer.byteLength(text)} bytes`);
  });

  it('refuses the 1.4 MB flow list and the 289 KB map of issue 22 by their size', () => {
    expect(refusal(flowList(700_000))).toMatch(/objects is 2100000 bytes, more than the 262144 bytes/);
    expect(refusal(wideMap(25_000))).toMatch(/objects is \d+ bytes, more than the 262144 bytes/);
  });
});

describe('the nesting budget, from the parser’s own tokens', () => {
  it.each([
    ['flow lists', (n: number) => `${'['.repeat(n)}a${']'.repeat(n)}`],
    ['flow maps', (n: number) => `${'{a: '.repeat(n)}b${'}'.repeat(n)}`],
    ['block lists', blockNesting],
    ['block maps', (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' v'],
  ])(`%s: ${MAX_NESTING} levels are read, ${MAX_NESTING + 1} refused naming the budget`, (_, nested) => {
    // Read means parsed into a tree: what the object rules then say about it does not matter here.
    expect(() => parseYamlTree(nested(MAX_NESTING), 'objects')).not.toThrow();
    expect(invalid(() => parseYamlTree(nested(MAX_NESTING + 1), 'objects')).message).toMatch(
      /^objects: the YAML nests deeper than 100 levels \(at line \d+, column \d+\)/,
    );
  });

  it('quoted brackets do not hide the depth: issue 22’s crash (10,000 levels of ["]") is refused', () => {
    expect(refusal(quotedBrackets(10_000))).toMatch(/nests deeper than 100 levels \(at line 2, column \d+\)/);
  });

  it('brackets in comments do not hide the depth', () => {
    expect(refusal(commentBrackets(10_000))).toContain('nests deeper than 100 levels (at line 101, column 2)');
  });

  it('quoted and commented brackets are not levels either: a shallow list full of them is read', () => {
    const objects = `- objectName: "[[[[x"  # ${'['.repeat(500)}\n  objectAlias: '${']'.repeat(100)}'\n  objectType: secretsmanager`;
    expect(parseObjects(objects, ctx).objects[0]!.primary.objectName).toBe('[[[[x');
  });

  it("yaml's lexer does not recurse per level: it reads 200,000 open brackets on a 100 KiB stack", async () => {
    // The budget counts the lexer's tokens, so the lexer itself must survive any depth.
    const script = `
      import { Lexer } from 'yaml';
      let tokens = 0;
      for (const _ of new Lexer().lex('['.repeat(200000))) tokens++;
      console.log(tokens);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--stack-size=100', '--input-type=module', '-e', script]);
    expect(Number(stdout.trim())).toBeGreaterThanOrEqual(200_000);
  });

  it('a stack overflow while reading is reported as nesting, never as a syntax error', async () => {
    // 100 levels fit the default stack; a stack of 100 KiB overflows inside the YAML library's composer.
    const script = `
      import { parseYamlTree } from './src/config/yamlTree.ts';
      try { parseYamlTree('${'['.repeat(MAX_NESTING)}a${']'.repeat(MAX_NESTING)}', 'objects'); console.log('read'); }
      catch (err) { console.log(err.message); }`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--stack-size=100', '--import', 'tsx', '--input-type=module', '-e', script]);
    expect(stdout).toContain('objects: the YAML nests too deeply for the provider to read (Maximum call stack size exceeded)');
    expect(stdout).not.toContain('syntax error');
  });
});

describe('the node budget, counted while the text is read', () => {
  it(`${MAX_NODES} nodes are read: 1,999 objects of two fields`, () => {
    const objects = Array.from({ length: 1_999 }, (_, i) => `- objectName: o${i}\n  objectType: ssmparameter\n`).join('');
    expect(parseObjects(objects, ctx).objects).toHaveLength(1_999);
  });

  it('a long flow list is refused where the budget runs out, not after reading all of it', () => {
    // 80,000 items (240 KB, under the size limit): the budget ends at item 10,000 (the list itself is a node), near column 3 × 10,000.
    const message = refusal(flowList(80_000));
    expect(message).toContain(`the YAML has more than ${MAX_NODES} nodes`);
    expect(message).toMatch(/the limit is reached at line 1, column 2999\d\)/);
  });

  it('a wide map is refused where the budget runs out', () => {
    const message = refusal(wideMap(9_000));
    expect(message).toContain(`the YAML has more than ${MAX_NODES} nodes`);
    // Two nodes a line (key and value) after the objectName line.
    expect(message).toMatch(/the limit is reached at line 500\d, column/);
  });

  it('empty keys count: a flow list of ":" pairs is refused', () => {
    expect(refusal(`[${':, '.repeat(20_000)}:]`)).toContain(`more than ${MAX_NODES} nodes`);
  });

  it('aliases expanding past the budget are refused as aliases, not as a big list', () => {
    const objects = `- objectName: &name x\n  jmesPath: [${'*name, '.repeat(9_000)}*name]`;
    expect(refusal(objects)).toContain(`expands through its aliases (*name) to more than ${MAX_NODES} nodes`);
    expect(refusal(flowList(80_000))).not.toContain('alias');
  });
});

describe('duplicate keys, checked in one pass', () => {
  it('names the key, where it repeats, and the fix', () => {
    const message = refusal(`${wideMap(4_000)}  key17: again\n`);
    expect(message).toContain('the key "key17" at line 4002, column 3 appears twice in one map. Keep one.');
  });

  it('a key written plain and quoted is the same key', () => {
    expect(refusal('- objectName: a\n  "objectName": b')).toContain('"objectName" at line 2, column 3 appears twice');
  });

  it('the same key in different maps is no duplicate', () => {
    expect(parseObjects('- objectName: a\n  objectType: ssmparameter\n- objectName: b\n  objectType: ssmparameter', ctx).objects).toHaveLength(2);
  });
});

describe('aliases', () => {
  it('an alias means the last anchor of its name before it', () => {
    expect(parseYamlTree('[&a x, *a, &a y, *a]', 'objects')).toEqual(['x', 'x', 'y', 'y']);
  });

  it('an alias to no anchor is refused by name', () => {
    expect(invalid(() => parseYamlTree('[*nowhere, &nowhere x]', 'objects')).message).toContain(
      'alias *nowhere names no anchor (&nowhere) before it',
    );
  });
});

describe('a byte order mark', () => {
  it('at the start of objects is not part of the YAML', () => {
    const parsed = parseObjects('\ufeff- objectName: bom\n  objectType: secretsmanager\n', ctx);
    expect(parsed.objects[0]!.primary.objectName).toBe('bom');
  });
});
