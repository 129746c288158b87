// The discrete-event core: a simulated clock in nanoseconds and a deterministic event queue.
// Events at the same instant run in the order they were scheduled (a sequence number breaks
// ties), so the same inputs give the same trace. No wall-clock time is read anywhere.
//
// The heap is a set of parallel typed arrays (time, sequence number, slot); each pending
// event's handler and argument sit in a slot, written once when scheduled. A handler may take
// one argument (`at(t, fn, arg)`), so a hot path can pass a pre-bound method and a record it
// already holds instead of allocating a closure per event. A negative slot names an EventFifo
// (~slot is its index): the queue runs a stream's events itself, and when the stream has a
// next event its key replaces the one just run at the root (one sift instead of a pop and an
// insert). Keys are unique, so the order of events is the same whatever the heap's layout.

export type Handler = () => void;
/** A pre-bound handler taking the argument it was scheduled with. */
export type ArgHandler<A> = (arg: A) => void;

export class EventQueue {
  /** Simulated time, nanoseconds. */
  now = 0;
  // the heap: time, sequence number and slot of each entry (typed arrays: moving an entry
  // stores no object pointer, so sifting needs no GC write barrier)
  private t = new Float64Array(256);
  private s = new Float64Array(256);
  private slot = new Int32Array(256);
  private n = 0;
  // the slots: handler and argument of each pending event, and the free slots
  private h: (((arg: unknown) => void) | null)[] = [];
  private a: unknown[] = [];
  private free: number[] = [];
  private seq = 0;
  /** Events run so far (for the benchmark's events/s figure). */
  processed = 0;

  /** The streams, by index (slot ~i in the heap). */
  private readonly fifos: EventFifo<unknown>[] = [];

  /** Pending events. */
  get size(): number {
    let n = this.n;
    for (const f of this.fifos) n += f.pending > 0 ? f.pending - 1 : 0;
    return n;
  }

  /** A stream of events whose times never decrease in scheduling order (see EventFifo). */
  fifo<A>(fn: ArgHandler<A>): EventFifo<A> {
    const f = new EventFifo(this, fn, ~this.fifos.length);
    this.fifos.push(f as EventFifo<unknown>);
    return f;
  }

  /** The sequence number of the next event scheduled (EventFifo takes its own here). */
  takeSeq(): number {
    return this.seq++;
  }

  // Keys travel through the typed arrays, not as arguments: a fractional time (or a sequence
  // number past the small-integer range) passed to a function that is not inlined is boxed into
  // a new heap number, several per event; written to a Float64Array it is not.

  /** Run `fn` (with `arg`) at absolute time `at` (ns); never in the past. */
  at(at: number, fn: Handler): void;
  at<A>(at: number, fn: ArgHandler<A>, arg: A): void;
  at(at: number, fn: (arg: unknown) => void, arg?: unknown): void {
    const k = this.slotFor(fn, arg);
    const i = this.enter();
    this.t[i] = at < this.now ? this.now : at;
    this.s[i] = this.seq++;
    this.slot[i] = k;
    this.siftUp(i);
  }

  /** Run `fn` (with `arg`) `delay` ns from now. */
  after(delay: number, fn: Handler): void;
  after<A>(delay: number, fn: ArgHandler<A>, arg: A): void;
  after(delay: number, fn: (arg: unknown) => void, arg?: unknown): void {
    this.at(this.now + delay, fn, arg); // small enough to be inlined: the time is not boxed
  }

  /** A stream's earliest event enters the heap with the key the stream holds for it. */
  enterStream(f: EventFifo<unknown>, k: number): void {
    const i = this.enter();
    f.headKeyTo(this.t, this.s, i);
    this.slot[i] = k;
    this.siftUp(i);
  }

  /** A slot holding `fn` and `arg` (a free one if there is one). */
  private slotFor(fn: (arg: unknown) => void, arg: unknown): number {
    let k: number;
    if (this.free.length > 0) k = this.free.pop()!;
    else {
      k = this.h.length;
      this.h.push(null);
      this.a.push(undefined);
    }
    this.h[k] = fn;
    this.a[k] = arg;
    return k;
  }

  /** Index of a new entry at the end of the heap (its key is written there, then sifted up). */
  private enter(): number {
    const i = this.n++;
    if (i === this.t.length) this.grow();
    return i;
  }

  /** The entry at `i` moves up while its key is smaller than its parent's. */
  private siftUp(i: number): void {
    const t = this.t;
    const s = this.s;
    const slot = this.slot;
    const when = t[i];
    const seq = s[i];
    const k = slot[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const tp = t[p];
      if (tp < when || (tp === when && s[p] < seq)) break;
      t[i] = tp;
      s[i] = s[p];
      slot[i] = slot[p];
      i = p;
    }
    t[i] = when;
    s[i] = seq;
    slot[i] = k;
  }

  private grow(): void {
    const len = this.t.length * 2;
    const t = new Float64Array(len);
    t.set(this.t);
    this.t = t;
    const s = new Float64Array(len);
    s.set(this.s);
    this.s = s;
    const slot = new Int32Array(len);
    slot.set(this.slot);
    this.slot = slot;
  }

  /** Time of the next event, or Infinity. */
  peek(): number {
    return this.n === 0 ? Infinity : this.t[0];
  }

  /** Run events until the queue is empty or the next one is after `until` (ns); the clock ends at `until`. */
  runUntil(until: number): void {
    while (this.n > 0 && this.t[0] <= until) {
      const k = this.slot[0]; // not hoisted: a handler may grow (replace) the arrays
      this.now = this.t[0];
      if (k < 0) {
        // a stream's earliest event: its successor's key takes the root, then the handler runs
        const f = this.fifos[~k];
        const arg = f.take();
        if (f.pending > 0) {
          f.headKeyTo(this.t, this.s, 0);
          this.siftDown();
        } else this.pop();
        f.fn(arg);
      } else {
        const fn = this.h[k]!;
        const arg = this.a[k];
        this.h[k] = null;
        this.a[k] = undefined;
        this.free.push(k);
        this.pop();
        fn(arg);
      }
      this.processed++;
    }
    if (this.now < until) this.now = until;
  }

  /** Drop every pending event (the connection they belong to is gone); the clock stays. */
  clear(): void {
    this.h.length = 0;
    this.a.length = 0;
    this.free.length = 0;
    this.n = 0;
    for (const f of this.fifos) f.drop();
  }

  /** Remove the top of the heap: the last entry sifts down from the root. */
  private pop(): void {
    const n = --this.n;
    if (n === 0) return;
    this.t[0] = this.t[n];
    this.s[0] = this.s[n];
    this.slot[0] = this.slot[n];
    this.siftDown();
  }

  /** The entry at the root moves down while a child's key is smaller. */
  private siftDown(): void {
    const t = this.t;
    const s = this.s;
    const slot = this.slot;
    const n = this.n;
    const lt = t[0];
    const ls = s[0];
    const lk = slot[0];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let tc = t[l];
      if (r < n) {
        const tr = t[r];
        if (tr < tc || (tr === tc && s[r] < s[l])) {
          c = r;
          tc = tr;
        }
      }
      if (lt < tc || (lt === tc && ls < s[c])) break;
      t[i] = tc;
      s[i] = s[c];
      slot[i] = slot[c];
      i = c;
    }
    t[i] = lt;
    s[i] = ls;
    slot[i] = lk;
  }
}

/**
 * Events of one stream whose times never decrease in the order they are scheduled: a NIC's TX
 * completions and the bursts it puts on a link (FIFO ring, fixed delays), ACKs crossing the link
 * back. Each keeps the (time, sequence) key it would have had in the heap, but only the
 * stream's earliest event sits in the heap; when it runs, the next one takes its place. The
 * order of events is exactly the heap's, with a heap a fraction of the size. An event that
 * would go back in time relative to the stream's last one is scheduled as an ordinary event.
 */
export class EventFifo<A> {
  private t = new Float64Array(64);
  private s = new Float64Array(64);
  private a: (A | undefined)[] = new Array(64);
  private head = 0;
  /** Events of this stream not yet run (the first of them is in the heap). */
  pending = 0;
  private lastWhen = -Infinity;

  constructor(
    private readonly q: EventQueue,
    /** The handler of every event of the stream (run by EventQueue.runUntil). */
    readonly fn: ArgHandler<A>,
    /** This stream's slot in the heap (negative: ~index into the queue's streams). */
    private readonly slot: number,
  ) {}

  /** Run the stream's handler with `arg` at absolute time `at` (ns); never in the past. */
  at(at: number, arg: A): void {
    const q = this.q;
    const when = at < q.now ? q.now : at;
    if (when < this.lastWhen) {
      q.at(when, this.fn, arg);
      return;
    }
    this.lastWhen = when;
    const seq = q.takeSeq();
    if (this.pending === this.t.length) this.grow();
    const mask = this.t.length - 1;
    const i = (this.head + this.pending) & mask;
    this.t[i] = when;
    this.s[i] = seq;
    this.a[i] = arg;
    if (this.pending++ === 0) q.enterStream(this as EventFifo<unknown>, this.slot);
  }

  /** Run `arg`'s event `delay` ns from now. */
  after(delay: number, arg: A): void {
    this.at(this.q.now + delay, arg);
  }

  /** The heap ran the stream's earliest event: take its argument off the ring. */
  take(): A {
    const h = this.head;
    const arg = this.a[h] as A;
    this.a[h] = undefined;
    this.head = (h + 1) & (this.t.length - 1);
    this.pending--;
    return arg;
  }

  /** Write the key of the earliest pending event (pending > 0) at `i` of the heap's arrays. */
  headKeyTo(t: Float64Array, s: Float64Array, i: number): void {
    t[i] = this.t[this.head];
    s[i] = this.s[this.head];
  }

  /** EventQueue.clear(): the stream's events are gone with the heap's. */
  drop(): void {
    this.a.fill(undefined);
    this.head = 0;
    this.pending = 0;
    this.lastWhen = -Infinity;
  }

  /** Double the ring, unrolled so that the pending events start at 0. */
  private grow(): void {
    const cap = this.t.length;
    const t = new Float64Array(cap * 2);
    const s = new Float64Array(cap * 2);
    const a: (A | undefined)[] = new Array(cap * 2);
    for (let k = 0; k < this.pending; k++) {
      const j = (this.head + k) & (cap - 1);
      t[k] = this.t[j];
      s[k] = this.s[j];
      a[k] = this.a[j];
    }
    this.t = t;
    this.s = s;
    this.a = a;
    this.head = 0;
  }
}

/** A seeded PRNG (mulberry32): the only source of randomness (link loss). */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }
}

/**
 * A timer that can be re-armed cheaply (mod_timer semantics): one queued event at a time.
 * Times are kept as numbers with -1 for "none" (never null): a field that only ever holds
 * numbers is updated in place, where one that mixes null and fractional numbers boxes each
 * value it is given.
 */
export class Timer {
  /** Expiry (ns), or -1 when not armed (del_timer). */
  private expires = -1;
  /** Time of the queued event, or -1. */
  private queuedAt = -1;
  constructor(
    private readonly q: EventQueue,
    private readonly fire: () => void,
  ) {}

  /** mod_timer() / sk_reset_timer(): (re)arm at `at` (ns, >= 0). Moving it later costs no new event. */
  set(at: number): void {
    this.expires = at;
    if (this.queuedAt < 0 || at < this.queuedAt) {
      this.queuedAt = at;
      this.q.at(at, this.onEvent);
    }
  }

  /** sk_stop_timer() */
  clear(): void {
    this.expires = -1;
  }

  private readonly onEvent = (): void => {
    if (this.queuedAt !== this.q.now) return; // a stale event of an earlier, shorter arming
    this.queuedAt = -1;
    if (this.expires < 0) return;
    if (this.expires > this.q.now) {
      this.queuedAt = this.expires;
      this.q.at(this.expires, this.onEvent);
      return;
    }
    this.expires = -1;
    this.fire();
  };
}
