// The accounting trail: what each kernel function did to fwd_alloc, wmem_queued, the page
// counters and the zerocopy state, and why. Off by default (one null check per event); the
// runner switches it on for `skmem run --explain`, and checkers read it to explain a failure.
import type { Sock } from './sock.ts';

export interface TraceEvent {
  /** The kernel function that acted (e.g. "sk_forced_mem_schedule"). */
  fn: string;
  /** What it did and why, with the numbers. */
  what: string;
  /** The skb concerned (model id), if any. */
  skb?: number;
  /** State after the event. */
  fwd_alloc: number;
  wmem_queued: number;
}

export type Tracer = (ev: TraceEvent) => void;

let tracer: Tracer | null = null;

/**
 * Read by call sites before building a trail message (`if (TRACE.on) trace(...)`), so that the
 * hot paths allocate no closure when nobody listens.
 */
export const TRACE = { on: false };

/** Runs fn with a tracer installed (model runs are synchronous, so this is scoped). */
export function withTracer<T>(t: Tracer | null, fn: () => T): T {
  const prev = tracer;
  tracer = t;
  TRACE.on = t !== null;
  try {
    return fn();
  } finally {
    tracer = prev;
    TRACE.on = prev !== null;
  }
}

export function tracing(): boolean {
  return tracer !== null;
}

/** Records an event; `what` is only built when tracing (pass a function for costly text). */
export function trace(sk: Sock, fn: string, what: string | (() => string), skb?: number): void {
  if (tracer === null) return;
  tracer({ fn, what: typeof what === 'string' ? what : what(), skb, fwd_alloc: sk.sk_forward_alloc, wmem_queued: sk.sk_wmem_queued });
}
