import { describe, expect, it } from 'vitest';
import { AnswerCache, PublishedPaths } from '../../../src/mount/answerCache.js';
import type { MountResponseMessage } from '../../../src/server/proto.js';

/** An answer of one file of `bytes` bytes (path "f", no versions): its size is bytes + 1. */
const answer = (bytes: number, fill = 'x') => ({
  response: { files: [{ path: 'f', mode: 0o644, contents: Buffer.from(fill.repeat(bytes)) }], objectVersion: [] } satisfies MountResponseMessage,
  failedOver: 0,
});

function cache(options: Partial<ConstructorParameters<typeof AnswerCache>[0]> = {}) {
  const clock = { now: 0 };
  const answers = new AnswerCache<ReturnType<typeof answer>>({
    ttlMs: 100,
    graceMs: 50,
    maxEntries: 10,
    maxBytes: 1000,
    now: () => clock.now,
    ...options,
  });
  return { answers, clock };
}

describe('AnswerCache', () => {
  it('serves an answer as fresh below the TTL, within the grace below TTL + grace, and never after', () => {
    const { answers, clock } = cache();
    answers.store('k', answer(3));
    clock.now = 99;
    expect(answers.fresh('k')?.ageMs).toBe(99);
    clock.now = 100;
    expect(answers.fresh('k')).toBeUndefined();
    expect(answers.withinGrace('k')?.ageMs).toBe(100);
    clock.now = 150;
    expect(answers.withinGrace('k')).toBeUndefined();
    expect(answers.fresh('k')).toBeUndefined();
  });

  it('keeps at most maxEntries answers, the least recently used dropped first', () => {
    const { answers } = cache({ maxEntries: 2 });
    answers.store('a', answer(1));
    answers.store('b', answer(1));
    answers.fresh('a');
    answers.store('c', answer(1));
    expect(answers.size).toBe(2);
    expect(answers.fresh('b')).toBeUndefined();
    expect(answers.fresh('a')).toBeDefined();
    expect(answers.fresh('c')).toBeDefined();
  });

  it('keeps at most maxBytes of files, and an answer larger than the whole cache not at all', () => {
    const { answers } = cache({ maxBytes: 25 });
    answers.store('a', answer(9));
    answers.store('b', answer(9));
    expect(answers.bytes).toBe(20);
    answers.store('c', answer(9));
    expect(answers.bytes).toBe(20);
    expect(answers.fresh('a')).toBeUndefined();
    answers.store('huge', answer(100));
    expect(answers.fresh('huge')).toBeUndefined();
    expect(answers.size).toBe(2);
  });

  it('a TTL of 0 keeps nothing', () => {
    const { answers } = cache({ ttlMs: 0 });
    answers.store('k', answer(1));
    expect(answers.size).toBe(0);
    expect(answers.withinGrace('k')).toBeUndefined();
  });
});

describe('PublishedPaths', () => {
  it('knows a path only for the identity and pod it was served to', () => {
    const paths = new PublishedPaths({ maxIdentities: 10, maxPathsPerIdentity: 10, forgetAfterMs: 60_000 });
    paths.served('id-a', 'uid-1', '/p');
    expect(paths.seen('id-a', 'uid-1', '/p')).toBe(true);
    expect(paths.seen('id-b', 'uid-1', '/p')).toBe(false);
    expect(paths.seen('id-a', 'uid-2', '/p')).toBe(false);
    expect(paths.seen('id-a', 'uid-1', '/q')).toBe(false);
  });

  it("bounds the paths per identity: one identity's pods do not push out another's", () => {
    const paths = new PublishedPaths({ maxIdentities: 10, maxPathsPerIdentity: 2, forgetAfterMs: 60_000 });
    paths.served('id-b', 'uid-b', '/b');
    for (const p of ['/1', '/2', '/3']) paths.served('id-a', 'uid', p);
    expect(paths.seen('id-a', 'uid', '/1')).toBe(false);
    expect(paths.seen('id-a', 'uid', '/3')).toBe(true);
    expect(paths.seen('id-b', 'uid-b', '/b')).toBe(true);
  });
});
