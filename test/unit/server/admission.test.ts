import { describe, expect, it } from 'vitest';
import { Admission, type Ticket } from '../../../src/server/admission.js';

const never = new AbortController().signal;

/** Enters `count` Mounts in order; returns the tickets as they are admitted (undefined while waiting). */
function enterAll(admission: Admission, count: number, signal = never) {
  const tickets: (Ticket | undefined)[] = Array.from({ length: count }, () => undefined);
  const admitted: number[] = [];
  const entered = Array.from({ length: count }, (_, i) =>
    admission.enter(signal).then((ticket) => {
      tickets[i] = ticket;
      admitted.push(i);
    }),
  );
  return { tickets, admitted, entered };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Admission', () => {
  it('runs at most maxConcurrent Mounts and admits the waiting ones first come first served', async () => {
    const depths: number[] = [];
    const admission = new Admission({ maxConcurrent: 2, maxBytes: 1e9, unreadBytes: 10, onDepth: (d) => depths.push(d) });
    const { tickets, admitted } = enterAll(admission, 5);
    await settle();
    expect(admitted).toEqual([0, 1]);
    expect(admission.queued).toBe(3);
    tickets[1]!.release();
    await settle();
    expect(admitted).toEqual([0, 1, 2]);
    tickets[0]!.release();
    tickets[2]!.release();
    await settle();
    expect(admitted).toEqual([0, 1, 2, 3, 4]);
    expect(admission.queued).toBe(0);
    expect(depths.at(-1)).toBe(0);
    expect(Math.max(...depths)).toBe(3);
  });

  it('charges an unread request its largest size, then its real size once read', async () => {
    const admission = new Admission({ maxConcurrent: 100, maxBytes: 1000, unreadBytes: 400, onDepth: () => undefined });
    const { tickets, admitted } = enterAll(admission, 4);
    await settle();
    expect(admitted).toEqual([0, 1]);
    expect(admission.inFlightBytes).toBe(800);
    tickets[0]!.resize(50);
    tickets[1]!.resize(50);
    await settle();
    // 100 bytes read, and two more unread requests at 400 each fit in 1000.
    expect(admitted).toEqual([0, 1, 2, 3]);
    expect(admission.inFlightBytes).toBe(900);
    for (const ticket of tickets) ticket!.release();
    expect(admission.inFlightBytes).toBe(0);
  });

  it('admits one Mount alone whatever the byte budget, so a small budget never stalls the queue', async () => {
    const admission = new Admission({ maxConcurrent: 4, maxBytes: 10, unreadBytes: 400 });
    const { tickets, admitted } = enterAll(admission, 2);
    await settle();
    expect(admitted).toEqual([0]);
    tickets[0]!.release();
    await settle();
    expect(admitted).toEqual([0, 1]);
  });

  it('drops a waiting Mount whose signal aborts, with the reason, and keeps the order of the others', async () => {
    const admission = new Admission({ maxConcurrent: 1, maxBytes: 1e9, unreadBytes: 1 });
    const first = await admission.enter(never);
    const deadline = new AbortController();
    const order: string[] = [];
    const late = admission.enter(deadline.signal).then(
      () => order.push('late'),
      (err: Error) => order.push(`late refused: ${err.message}`),
    );
    const next = admission.enter(never).then((ticket) => {
      order.push('next');
      return ticket;
    });
    deadline.abort(new Error('deadline passed'));
    await late;
    expect(admission.queued).toBe(1);
    first.release();
    (await next).release();
    expect(order).toEqual(['late refused: deadline passed', 'next']);
  });

  it('refuses at once a Mount whose signal already aborted, and counts a release once', async () => {
    const admission = new Admission({ maxConcurrent: 1, maxBytes: 1e9, unreadBytes: 5 });
    const cancelled = new AbortController();
    cancelled.abort(new Error('gone'));
    await expect(admission.enter(cancelled.signal)).rejects.toThrow('gone');
    const ticket = await admission.enter(never);
    ticket.release();
    ticket.release();
    ticket.resize(100);
    expect(admission.inFlightBytes).toBe(0);
    const again = await admission.enter(never);
    expect(admission.inFlightBytes).toBe(5);
    again.release();
  });
});
