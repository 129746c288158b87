import { describe, expect, it } from 'vitest';
import { EventQueue, Rng } from '../src/engine/queue.ts';

/**
 * EventFifo keeps each event's (time, sequence) key, so a run through streams gives exactly the
 * order of the same events scheduled one by one on the heap.
 */
describe('EventFifo', () => {
  function run(useFifo: boolean, seed: number): string[] {
    const rng = new Rng(seed);
    const q = new EventQueue();
    const log: string[] = [];
    const streams = [0, 1, 2].map((k) => {
      let last = 0;
      const handler = (tag: string): void => {
        log.push(`${q.now}:${tag}`);
        spawn();
        if (rng.next() < 0.1) spawn();
      };
      const fifo = q.fifo(handler);
      return {
        /** Schedule at a time that usually does not go back (sometimes it does: the fallback). */
        push(tag: string): void {
          const back = rng.next() < 0.1;
          const at = back ? q.now + Math.floor(rng.next() * 3) : Math.max(last, q.now) + Math.floor(rng.next() * 4);
          if (!back) last = at;
          if (useFifo) fifo.at(at, `${k}${tag}`);
          else q.at(at, handler, `${k}${tag}`);
        },
      };
    });
    let n = 0;
    function spawn(): void {
      if (n > 3000) return;
      const s = streams[Math.floor(rng.next() * 3)];
      s.push(String(n++));
      if (rng.next() < 0.3) q.after(Math.floor(rng.next() * 5), () => log.push(`${q.now}:plain`));
    }
    for (let i = 0; i < 20; i++) spawn();
    q.runUntil(1e9);
    return log;
  }

  it('runs events in the same (time, sequence) order as the heap', () => {
    for (const seed of [1, 2, 3, 42]) {
      const a = run(false, seed);
      expect(a.length).toBeGreaterThan(1000);
      expect(run(true, seed)).toEqual(a);
    }
  });

  it('clear() drops a stream\'s pending events with the heap\'s', () => {
    const q = new EventQueue();
    const seen: number[] = [];
    const f = q.fifo((x: number) => seen.push(x));
    f.at(10, 1);
    f.at(20, 2);
    q.runUntil(15);
    q.clear();
    expect(q.size).toBe(0);
    f.at(30, 3);
    q.runUntil(100);
    expect(seen).toEqual([1, 3]);
  });
});
