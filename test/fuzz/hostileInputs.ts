/**
 * The shapes of issue 22 that crashed, froze or bloated the provider, as generators whose sizes straddle the budgets
 * (quoted and commented brackets, block nesting, wide maps, long flow lists, alias fan-out, texts near the size limit,
 * names that disguise themselves, a byte order mark). `npm run fuzz` runs them through the parser in-process and
 * against the provider process; each must come out as a config or an InvalidSecretProviderClass refusal.
 */
import fc from 'fast-check';
import { MAX_NESTING, MAX_NODES, MAX_OBJECTS_BYTES } from '../../src/config/yamlBudget.js';
import {
  blockNesting,
  commentBrackets,
  flowList,
  paddedObjects,
  quotedBrackets,
  SPOOFING_CHARACTERS,
  spoofingObjects,
  wideMap,
} from '../fixtures/hostileObjects.js';

export interface HostileObjects {
  shape: string;
  objects: string;
}

/** Around a budget: just under, at, just over, or far beyond (as the repros were). */
const around = (limit: number, far: number) =>
  fc.oneof(fc.integer({ min: Math.max(1, limit - 5), max: limit + 5 }), fc.integer({ min: 1, max: far }));

const shapes: fc.Arbitrary<HostileObjects>[] = [
  around(MAX_NESTING, 12_000).map((n) => ({ shape: 'quoted brackets', objects: quotedBrackets(n) })),
  around(MAX_NESTING, 12_000).map((n) => ({ shape: 'comment brackets', objects: commentBrackets(n) })),
  around(MAX_NESTING, 5_000).map((n) => ({ shape: 'block nesting', objects: blockNesting(n) })),
  around(MAX_NODES / 2, 30_000).map((n) => ({ shape: 'wide map', objects: wideMap(n) })),
  around(MAX_NODES, 800_000).map((n) => ({ shape: 'long flow list', objects: flowList(n) })),
  around(MAX_NODES, 20_000).map((n) => ({
    shape: 'alias fan-out',
    objects: `- objectName: &name x\n  jmesPath: [${'*name, '.repeat(n)}*name]`,
  })),
  fc.integer({ min: MAX_OBJECTS_BYTES - 64, max: MAX_OBJECTS_BYTES + 64 }).map((n) => ({ shape: 'size near the limit', objects: paddedObjects(n) })),
  fc
    .tuple(fc.constantFrom(...SPOOFING_CHARACTERS), fc.nat({ max: 2 }))
    .map(([{ name, char }, field]) => ({ shape: `spoofing name (${name})`, objects: spoofingObjects(char)[field]!.objects })),
  fc.constant({ shape: 'byte order mark', objects: '\ufeff- objectName: bom\n  objectType: secretsmanager\n' }),
];

export const hostileObjectsArb: fc.Arbitrary<HostileObjects> = fc.oneof(...shapes);
