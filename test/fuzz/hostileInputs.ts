/**
 * The shapes of issue 22 that crashed, froze or bloated the provider, as generators whose sizes straddle the budgets
 * (quoted and commented brackets, block nesting, wide maps, long flow lists, alias fan-out, texts near the size limit,
 * names that disguise themselves, a byte order mark, jmesPath paths that double their result at each stage).
 * `npm run fuzz` runs them through the parser in-process and against the provider process; each must come out as a
 * config or an InvalidSecretProviderClass refusal.
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

/** The JSON secret the pipe-doubling paths read, which the process phase seeds. */
export const JSON_SECRET = 'fuzz/json';

/** `stages` pipes of a doubling step, then an optional tail: 2^stages values, or as much work, from a few bytes. */
function doublingPath(step: string, stages: number, tail: string): string {
  return [...Array<string>(stages).fill(step), ...(tail ? [tail] : [])].join(' | ');
}

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
  fc
    .tuple(
      fc.constantFrom(
        { step: '[@,@]', tail: '' },
        { step: '[@,@][]', tail: '' },
        { step: '[@,@]', tail: 'to_string(@)' },
        { step: '[@,@][]', tail: 'join(`,`, [].to_string(@))' },
      ),
      fc.integer({ min: 1, max: 60 }),
    )
    .map(([{ step, tail }, stages]) => ({
      shape: 'pipe-doubling jmesPath',
      objects:
        `- objectName: ${JSON_SECRET}\n  objectType: secretsmanager\n  jmesPath:\n` +
        `    - path: ${JSON.stringify(doublingPath(step, stages, tail))}\n      objectAlias: doubled\n`,
    })),
];

export const hostileObjectsArb: fc.Arbitrary<HostileObjects> = fc.oneof(...shapes);
