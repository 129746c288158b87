// The event engine's own share of the 100 Gbit/s experiment: one run of the model is recorded
// (every event: when it was due, which stream it belonged to, which event scheduled it), then
// the same schedule is replayed on a fresh EventQueue whose handlers do nothing but schedule
// the recorded children. The replay runs exactly as many events, through the same heap and
// EventFifo streams, with the same numbers pending at every moment; its wall time is what the
// engine costs with no model code at all, a floor under any faster model of the same events.
import { EventFifo, EventQueue } from '../src/engine/queue.ts';
import { runMsgZerocopy, type ZcOptions } from '../src/workloads/msg_zerocopy.ts';

/** The recorded schedule: per event, its due time, its stream (-1: the heap) and its children. */
interface Schedule {
  when: Float64Array;
  stream: Int32Array;
  /** Children of event i are firstChild[i] .. firstChild[i] + nChildren[i] - 1 (ids in scheduling order). */
  firstChild: Int32Array;
  nChildren: Int32Array;
  /** Events scheduled before the run started (no parent). */
  roots: number[];
  streams: number;
  events: number;
  runUntilSteps: number[];
}

/** Record the schedule of one run by wrapping the queue's scheduling entry points for its duration. */
function record(opts: ZcOptions): { schedule: Schedule; events: number } {
  const when: number[] = [];
  const stream: number[] = [];
  const parent: number[] = [];
  let running = -1;
  let inStream = false;
  const streamIndex = new Map<EventFifo<unknown>, number>();
  const steps: number[] = [];
  const qAt = EventQueue.prototype.at;
  const qFifo = EventQueue.prototype.fifo;
  const qRunUntil = EventQueue.prototype.runUntil;
  const fAt = EventFifo.prototype.at;
  const note = (t: number, s: number): number => {
    when.push(t);
    stream.push(s);
    parent.push(running);
    return when.length - 1;
  };
  type Wrapped = { id: number; arg: unknown };
  const P = EventQueue.prototype as unknown as Record<string, unknown>;
  const F = EventFifo.prototype as unknown as Record<string, unknown>;
  P.at = function (this: EventQueue, at: number, fn: (a: unknown) => void, arg?: unknown) {
    if (inStream) return qAt.call(this, at, fn as never, arg as never); // a stream's out-of-order event, recorded by the stream
    const id = note(Math.max(at, this.now), -1);
    return qAt.call(this, at, ((a: unknown) => {
      running = id;
      fn(a);
    }) as never, arg as never);
  };
  P.fifo = function (this: EventQueue, fn: (a: unknown) => void) {
    const f = qFifo.call(this, ((w: Wrapped) => {
      running = w.id;
      fn(w.arg);
    }) as never) as EventFifo<unknown>;
    streamIndex.set(f, streamIndex.size);
    return f;
  };
  F.at = function (this: EventFifo<unknown>, at: number, arg: unknown) {
    const q = (this as unknown as { q: EventQueue }).q;
    const id = note(Math.max(at, q.now), streamIndex.get(this)!);
    inStream = true;
    try {
      return fAt.call(this, at, { id, arg } as Wrapped);
    } finally {
      inStream = false;
    }
  };
  P.runUntil = function (this: EventQueue, until: number) {
    steps.push(until);
    return qRunUntil.call(this, until);
  };
  let events: number;
  try {
    events = runMsgZerocopy(opts).events;
  } finally {
    P.at = qAt;
    P.fifo = qFifo;
    P.runUntil = qRunUntil;
    F.at = fAt;
  }
  const n = when.length;
  const firstChild = new Int32Array(n).fill(-1);
  const nChildren = new Int32Array(n);
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = parent[i];
    if (p < 0) roots.push(i);
    else {
      if (firstChild[p] < 0) firstChild[p] = i;
      else if (firstChild[p] + nChildren[p] !== i) throw new Error('engine_floor: children of one event are not contiguous');
      nChildren[p]++;
    }
  }
  return {
    schedule: { when: Float64Array.from(when), stream: Int32Array.from(stream), firstChild, nChildren, roots, streams: streamIndex.size, events, runUntilSteps: steps },
    events,
  };
}

/** Replay the schedule with empty handlers; returns wall ms and events run. */
function replay(s: Schedule): { wall_ms: number; events: number } {
  const q = new EventQueue();
  const fifos: EventFifo<number>[] = [];
  const schedule = (c: number): void => {
    const k = s.stream[c];
    if (k < 0) q.at(s.when[c], run, c);
    else fifos[k].at(s.when[c], c);
  };
  const run = (id: number): void => {
    const first = s.firstChild[id];
    for (let c = first, end = first + s.nChildren[id]; c < end; c++) schedule(c);
  };
  for (let i = 0; i < s.streams; i++) fifos.push(q.fifo(run));
  const t0 = performance.now();
  for (const r of s.roots) schedule(r);
  for (const until of s.runUntilSteps) q.runUntil(until);
  return { wall_ms: performance.now() - t0, events: q.processed };
}

export interface FloorResult {
  /** Best replay wall time, ms. */
  wall_ms: number;
  events: number;
}

/** Record one run of `opts`, then replay it `reps` times; the fastest replay. */
export function engineFloor(opts: ZcOptions, reps = 5): FloorResult {
  const { schedule, events } = record(opts);
  let best = Infinity;
  for (let i = 0; i < reps + 1; i++) {
    const r = replay(schedule);
    if (r.events !== events) throw new Error(`engine_floor: replay ran ${r.events} events, the model ${events}`);
    if (i > 0 && r.wall_ms < best) best = r.wall_ms; // the first replay warms the JIT up
  }
  return { wall_ms: best, events };
}
