// bench/engine_floor.ts replays a recorded run on the bare event engine; the figure it gives
// (`npm run bench`: "engine alone") is only meaningful if the replay runs the very same events.
import { describe, expect, it } from 'vitest';
import { engineFloor } from '../bench/engine_floor.ts';
import { DEFAULT_LINK } from '../src/paths/link.ts';
import { DEFAULT_COSTS, runMsgZerocopy, type ZcOptions } from '../src/workloads/msg_zerocopy.ts';
import { EventQueue } from '../src/engine/queue.ts';

const opts = (kernel: string): ZcOptions => ({
  kernel, family: 'ipv4', runtime_ms: 20, payload: 65435, zerocopy: true, notify_limit: 32, expect_zerocopy: -1,
  link: DEFAULT_LINK, cc: 'cubic', costs: DEFAULT_COSTS, sample_ns: 10_000, series_points: 100,
});

describe('engine floor replay', () => {
  for (const kernel of ['5.15', '6.18']) {
    it(`replays exactly the events of a ${kernel} run`, () => {
      const run = runMsgZerocopy(opts(kernel));
      const floor = engineFloor(opts(kernel), 1);
      expect(floor.events).toBe(run.events);
      expect(floor.events).toBeGreaterThan(5_000);
      expect(floor.wall_ms).toBeGreaterThan(0);
    });
  }

  it('leaves the engine as it found it (the recording wraps and restores its entry points)', () => {
    const at = EventQueue.prototype.at;
    const fifo = EventQueue.prototype.fifo;
    const runUntil = EventQueue.prototype.runUntil;
    const strip = (r: ReturnType<typeof runMsgZerocopy>) => JSON.stringify({ ...r, wall_ms: 0 });
    const before = strip(runMsgZerocopy(opts('6.18')));
    engineFloor(opts('6.18'), 1);
    expect(EventQueue.prototype.at).toBe(at);
    expect(EventQueue.prototype.fifo).toBe(fifo);
    expect(EventQueue.prototype.runUntil).toBe(runUntil);
    expect(strip(runMsgZerocopy(opts('6.18')))).toBe(before);
  });
});
