import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SkbQueue } from '../src/model/skb_queue.ts';
import { SkBuff } from '../src/model/skbuff.ts';

/** The retransmit queue's ring buffer behaves exactly as an array used the same way. */
describe('SkbQueue', () => {
  const op = fc.oneof(
    fc.constant({ kind: 'push' as const }),
    fc.constant({ kind: 'shift' as const }),
    fc.record({ kind: fc.constant('removeAt' as const), i: fc.nat(80) }),
    fc.record({ kind: fc.constant('insertAt' as const), i: fc.nat(80) }),
  );
  it('matches an array under push / shift / removeAt / insertAt, through growth and wrap-around', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new SkbQueue();
        const ref: SkBuff[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            const skb = new SkBuff(0, 0);
            q.push(skb);
            ref.push(skb);
          } else if (o.kind === 'shift') expect(q.shift()).toBe(ref.shift());
          else if (o.kind === 'insertAt') {
            const skb = new SkBuff(0, 0);
            if (o.i > ref.length) expect(() => q.insertAt(o.i, skb)).toThrow();
            else {
              q.insertAt(o.i, skb);
              ref.splice(o.i, 0, skb);
            }
          } else {
            q.removeAt(o.i);
            if (o.i < ref.length) ref.splice(o.i, 1);
          }
          expect(q.length).toBe(ref.length);
          expect(q.at(0)).toBe(ref[0]);
          expect(q.last()).toBe(ref.length === 0 ? undefined : ref[ref.length - 1]);
        }
        expect([...q]).toEqual(ref);
        expect(q.drain()).toEqual(ref);
        expect(q.length).toBe(0);
      }),
      { seed: 20261126, numRuns: 300 },
    );
  });
});
