// The discrete-event core: a simulated clock in nanoseconds and a deterministic event queue.
// Events at the same instant run in the order they were scheduled (a sequence number breaks
// ties), so the same inputs give the same trace. No wall-clock time is read anywhere.
//
// The heap is a pair of parallel arrays (time, seq) plus handler slots, so scheduling an event
// allocates nothing beyond the handler closure the caller already holds.

export type Handler = () => void;

export class EventQueue {
  /** Simulated time, nanoseconds. */
  now = 0;
  private t: number[] = [];
  private s: number[] = [];
  private h: Handler[] = [];
  private seq = 0;
  /** Events run so far (for the benchmark's events/s figure). */
  processed = 0;

  get size(): number {
    return this.t.length;
  }

  /** Run `fn` at absolute time `at` (ns); never in the past. */
  at(at: number, fn: Handler): void {
    const when = at < this.now ? this.now : at;
    const t = this.t;
    const s = this.s;
    const h = this.h;
    let i = t.length;
    const seq = this.seq++;
    t.push(when);
    s.push(seq);
    h.push(fn);
    // sift up
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p] < when || (t[p] === when && s[p] < seq)) break;
      t[i] = t[p];
      s[i] = s[p];
      h[i] = h[p];
      i = p;
    }
    t[i] = when;
    s[i] = seq;
    h[i] = fn;
  }

  /** Run `fn` `delay` ns from now. */
  after(delay: number, fn: Handler): void {
    this.at(this.now + delay, fn);
  }

  /** Time of the next event, or Infinity. */
  peek(): number {
    return this.t.length === 0 ? Infinity : this.t[0];
  }

  /** Run events until the queue is empty or the next one is after `until` (ns); the clock ends at `until`. */
  runUntil(until: number): void {
    const t = this.t;
    while (t.length > 0 && t[0] <= until) {
      const fn = this.pop();
      fn();
      this.processed++;
    }
    if (this.now < until) this.now = until;
  }

  /** Drop every pending event (the connection they belong to is gone); the clock stays. */
  clear(): void {
    this.t.length = 0;
    this.s.length = 0;
    this.h.length = 0;
  }

  private pop(): Handler {
    const t = this.t;
    const s = this.s;
    const h = this.h;
    const top = h[0];
    this.now = t[0];
    const lt = t.pop()!;
    const ls = s.pop()!;
    const lh = h.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (t[r] < t[l] || (t[r] === t[l] && s[r] < s[l]))) c = r;
        if (lt < t[c] || (lt === t[c] && ls < s[c])) break;
        t[i] = t[c];
        s[i] = s[c];
        h[i] = h[c];
        i = c;
      }
      t[i] = lt;
      s[i] = ls;
      h[i] = lh;
    }
    return top;
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

/** A timer that can be re-armed cheaply (mod_timer semantics): one queued event at a time. */
export class Timer {
  /** Expiry (ns) or null when not armed (del_timer). */
  expires: number | null = null;
  private queuedAt: number | null = null;
  constructor(
    private readonly q: EventQueue,
    private readonly fire: () => void,
  ) {}

  /** mod_timer() / sk_reset_timer(): (re)arm at `at`. Moving it later costs no new event. */
  set(at: number): void {
    this.expires = at;
    if (this.queuedAt === null || at < this.queuedAt) {
      this.queuedAt = at;
      this.q.at(at, this.onEvent);
    }
  }

  /** sk_stop_timer() */
  clear(): void {
    this.expires = null;
  }

  private readonly onEvent = (): void => {
    if (this.queuedAt !== this.q.now) return; // a stale event of an earlier, shorter arming
    this.queuedAt = null;
    if (this.expires === null) return;
    if (this.expires > this.q.now) {
      this.queuedAt = this.expires;
      this.q.at(this.expires, this.onEvent);
      return;
    }
    this.expires = null;
    this.fire();
  };
}
