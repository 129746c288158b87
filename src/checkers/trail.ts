// The accounting trail: what happened to the socket's counters and to each skb, step by step,
// so that a violation can be explained ("which rule fired, with the trail of the skbs
// involved"). A Checker that never reports: it snapshots the sender after every step and keeps
// the differences. Off the fuzzer's hot path: used to explain a failure once it is found.
import { SKB_TRUESIZE } from '../model/skb_geometry.ts';
import type { SkBuff } from '../model/skbuff.ts';
import type { TraceEvent, Tracer } from '../model/trace.ts';
import { describeOp } from '../report/table.ts';
import type { Step } from '../scenario/schema.ts';
import type { Checker, ModelView, Violation } from './types.ts';

export interface SkbState {
  id: number;
  truesize: number;
  /** SKB_TRUESIZE(skb_end_offset): what the head really costs. */
  head_truesize: number;
  len: number;
  data_len: number;
  pure: boolean;
  eor: boolean;
  nr_frags: number;
  uarg_id: number | null;
  queue: 'write' | 'rtx';
}

export interface SockState {
  /** SO_ZEROCOPY: without it MSG_ZEROCOPY sends are copies. */
  so_zerocopy: boolean;
  fwd_alloc: number;
  wmem_queued: number;
  optmem: number;
  scheduled_pages: number;
  reclaimed_pages: number;
  charged: number;
  uncharged: number;
}

export interface SkbChange {
  id: number;
  before: SkbState | null;
  after: SkbState | null;
}

export interface TrailStep {
  index: number;
  op: string;
  kind: string;
  /** The op's arguments as in the scenario file. */
  args: Record<string, unknown>;
  /** The write-queue tail before the step, unless MSG_EOR closed it. */
  openTail: SkbState | null;
  before: SockState;
  after: SockState;
  skbs: SkbChange[];
  /** What the kernel functions reported during the step (src/model/trace.ts). */
  events: TraceEvent[];
}

export class TrailRecorder implements Checker {
  readonly name = 'accounting trail (explanations only)';
  readonly violations: readonly Violation[] = [];
  readonly steps: TrailStep[] = [];
  private sock: SockState | null = null;
  private skbs = new Map<number, SkbState>();
  private openTail: SkbState | null = null;
  private pending: TraceEvent[] = [];
  /** Install with withTracer() around the run to collect the kernel functions' own account. */
  readonly tracer: Tracer = (ev) => {
    this.pending.push(ev);
  };

  afterStep(view: ModelView, index: number, step: Step | null): void {
    const sock = sockState(view);
    const skbs = new Map<number, SkbState>();
    for (const skb of view.sk.rtx_queue) skbs.set(skb.id, skbState(skb, 'rtx'));
    for (const skb of view.sk.write_queue) skbs.set(skb.id, skbState(skb, 'write'));
    if (step !== null && this.sock !== null) {
      const { note: _note, ...op } = step as Step & { note?: string };
      this.steps.push({
        index, op: describeOp(op), kind: Object.keys(op)[0], args: (Object.values(op)[0] ?? {}) as Record<string, unknown>, openTail: this.openTail, before: this.sock, after: sock, skbs: diff(this.skbs, skbs), events: this.pending,
      });
    }
    this.pending = [];
    this.sock = sock;
    this.skbs = skbs;
    // Read-only: path.sizeGoal() is tcp_send_mss() and takes the socket lock, so the room test
    // is left out (a full tail makes a cause a false positive, never a miss).
    const tail = view.sk.writeQueueTail();
    this.openTail = tail !== undefined && !tail.eor ? skbs.get(tail.id)! : null;
  }
}

function sockState(view: ModelView): SockState {
  const sk = view.sk;
  const l = sk.ledger;
  return {
    so_zerocopy: sk.zerocopy, fwd_alloc: sk.sk_forward_alloc, wmem_queued: sk.sk_wmem_queued, optmem: sk.sk_omem_alloc,
    scheduled_pages: l.scheduled_pages, reclaimed_pages: l.reclaimed_pages, charged: l.charged, uncharged: l.uncharged,
  };
}

function skbState(skb: SkBuff, queue: 'write' | 'rtx'): SkbState {
  return {
    id: skb.id, truesize: skb.truesize, head_truesize: SKB_TRUESIZE(skb.end_offset), len: skb.len, data_len: skb.data_len,
    pure: skb.pure, eor: skb.eor, nr_frags: skb.nr_frags, uarg_id: skb.uarg?.id ?? null, queue,
  };
}

const same = (a: SkbState, b: SkbState) =>
  a.truesize === b.truesize && a.len === b.len && a.pure === b.pure && a.queue === b.queue && a.uarg_id === b.uarg_id && a.eor === b.eor;

function diff(before: Map<number, SkbState>, after: Map<number, SkbState>): SkbChange[] {
  const out: SkbChange[] = [];
  for (const [id, b] of before) {
    const a = after.get(id) ?? null;
    if (a === null || !same(a, b)) out.push({ id, before: b, after: a });
  }
  for (const [id, a] of after) if (!before.has(id)) out.push({ id, before: null, after: a });
  return out.sort((x, y) => x.id - y.id);
}
