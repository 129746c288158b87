// `connection.path: link` for the step runner: the event engine's LinkFlow (src/paths/link.ts)
// between two modelled hosts, driven step by step.
//
// Semantics (README "path: link in skmem run"):
// * Every step runs at the current simulated time; steps take no time of their own. A send
//   returns when sendmsg() returns: what tcp_write_xmit() sent is in flight (in the NIC ring or
//   on the wire), nothing is acknowledged yet.
// * `sleep {ms}` runs the event engine for that long: NIC TX completions (TSQ), propagation,
//   the receiver's ACKs (immediate or delayed), the sender's ACK processing (frees, trims,
//   completions), retransmit / loss-probe timers (5.x: their sk_mem_reclaim()).
// * The receiving application reads only when a step says so, as on loopback: `recv {bytes}`
//   reads what has arrived and waits (simulated time) for the rest, giving up after 200 ms
//   without data; `drain` reads everything as it arrives and runs the engine until the
//   sender's queues are empty, everything is acknowledged and the NIC has completed every
//   clone (so every zerocopy range has completed), at most DRAIN_LIMIT of simulated time.
// * A real NIC sends the user pages: zerocopy completions carry ee_code 0.
// * Determinism: the only randomness is the link's seeded loss.
import { UsageError } from '../cli/errors.ts';
import { CONGESTION_CONTROLS, type CongestionControl } from '../engine/cc.ts';
import { EventQueue } from '../engine/queue.ts';
import type { SkBuff } from '../model/skbuff.ts';
import type { Sock } from '../model/sock.ts';
import type { NetSysctls } from '../profiles/types.ts';
import type { Connection } from '../scenario/schema.ts';
import { DEFAULT_LINK, LinkFlow, Nic, parseDuration, parseRate, type LinkParams } from './link.ts';
import type { CoalesceObserver } from './loopback.ts';
import type { Path } from './path.ts';

/** The longest a `recv` waits without new data (as the live backend's receive()). */
const RECV_IDLE_NS = 200e6;
/** `drain` gives up after this much simulated time. */
const DRAIN_LIMIT_NS = 120e9;
/** A blocking send waits at most this long for space (sk_stream_wait_memory). */
const WAIT_LIMIT_NS = 60e9;
/** TCP_RTO_MIN: the link's rto_min when the route sets none. */
const TCP_RTO_MIN_MS = 200;

/** The route's cwnd lock as snd_cwnd_clamp: the congestion control never grows cwnd past it. */
function clamped(cc: CongestionControl, clamp: number | undefined): CongestionControl {
  if (clamp === undefined) return cc;
  return {
    name: cc.name,
    congAvoid: (tp, acked, now) => {
      cc.congAvoid(tp, acked, now);
      if (tp.snd_cwnd > clamp) tp.snd_cwnd = clamp;
    },
    ssthresh: (tp) => cc.ssthresh(tp),
    onLoss: (now) => cc.onLoss(now),
  };
}

export function linkParams(conn: Connection): LinkParams {
  const l = conn.link;
  if (l === undefined) return DEFAULT_LINK;
  return {
    rate_bps: parseRate(l.rate),
    rtt_ns: parseDuration(l.rtt, 'link rtt'),
    mtu: l.mtu,
    loss: l.loss,
    seed: l.seed,
    gso_max_size: DEFAULT_LINK.gso_max_size,
    txc_delay_ns: parseDuration(l.txc_delay, 'link txc_delay'),
  };
}

export class LinkStepPath implements Path {
  readonly kind = 'link';
  readonly coalesceObservers: CoalesceObserver[] = [];
  readonly q = new EventQueue();
  private linkFlow: LinkFlow | null = null;

  get flow(): LinkFlow {
    if (this.linkFlow === null) throw new Error('link path: not connected');
    return this.linkFlow;
  }

  establish(sk: Sock, conn: Connection, _sysctl: NetSysctls): void {
    if (conn.start !== 'fresh') throw new UsageError(`connection.start ${conn.start} is a loopback start; on path link the receiver's window closes when it does not read (see connection.receiver.rcvbuf)`);
    const mk = CONGESTION_CONTROLS[conn.congestion];
    if (mk === undefined) throw new UsageError(`connection.congestion ${conn.congestion} is not modelled on path link (expected ${Object.keys(CONGESTION_CONTROLS).join(' or ')})`);
    const params = linkParams(conn);
    const route = conn.route;
    this.linkFlow = new LinkFlow(this.q, sk, new Nic(params.rate_bps), params, clamped(mk(), route.cwnd_lock), {
      family: conn.family,
      rcvbuf: conn.receiver.rcvbuf ?? null,
      rcvlowat: 1,
      initcwnd: route.cwnd_lock ?? route.initcwnd ?? 10,
      rto_min_ns: (route.rto_min_ms ?? TCP_RTO_MIN_MS) * 1e6,
      rx_wake_ns: 0,
      rx_read_max: Number.MAX_SAFE_INTEGER,
      rx_auto: false,
    });
  }

  // ---- SendHooks: the link's transmit side ----

  sizeGoal(sk: Sock): number {
    return this.flow.sizeGoal(sk);
  }

  skbFull(sk: Sock, skb: SkBuff): void {
    this.flow.skbFull(sk, skb);
  }

  push(sk: Sock, more: boolean, naglePush?: boolean): void {
    this.flow.push(sk, more, naglePush);
  }

  /** sk_stream_wait_memory() of a blocking call: simulated time runs until an ACK frees queue space. */
  flushBacklog(): boolean {
    return false; // ACKs are engine events here, never held in a backlog
  }

  waitForSpace(sk: Sock): boolean {
    const before = sk.sk_wmem_queued;
    const limit = this.q.now + WAIT_LIMIT_NS;
    while (sk.sk_wmem_queued >= before && this.q.size > 0 && this.q.peek() <= limit) this.runNext(sk);
    return sk.sk_wmem_queued < before;
  }

  // ---- the steps ----

  /** Nothing waits in a backlog: ACKs are events at their own simulated time. */
  lock(_sk: Sock): void {}

  release(_sk: Sock): void {}

  advance(sk: Sock, ms: number): void {
    this.q.runUntil(this.q.now + ms * 1e6);
    sk.net.now_ms = this.q.now / 1e6;
  }

  recv(sk: Sock, bytes: number): number {
    const r = this.flow.rcv;
    let got = 0;
    let idleUntil = this.q.now + RECV_IDLE_NS;
    while (got < bytes) {
      if (this.available() > 0) {
        got += this.flow.appRead(bytes - got);
        idleUntil = this.q.now + RECV_IDLE_NS;
        continue;
      }
      if (r.finReceived) break; // EOF
      if (this.q.size === 0 || this.q.peek() > idleUntil) {
        this.q.runUntil(idleUntil);
        break;
      }
      this.runNext(sk);
    }
    sk.net.now_ms = this.q.now / 1e6;
    return got;
  }

  drain(sk: Sock): void {
    const limit = this.q.now + DRAIN_LIMIT_NS;
    for (;;) {
      if (this.available() > 0) this.flow.appRead(Number.MAX_SAFE_INTEGER);
      if (this.finAcked(sk) && sk.sk_wmem_alloc === 0) break;
      if (this.q.size === 0 || this.q.peek() > limit) break;
      this.runNext(sk);
    }
    sk.net.now_ms = this.q.now / 1e6;
  }

  finAcked(sk: Sock): boolean {
    return sk.write_seq === sk.snd_una && sk.queuesEmpty();
  }

  /** tcp_disconnect() sent a RST: the peer, the ACKs and the segments in flight are gone. */
  disconnected(_sk: Sock): void {
    this.q.clear();
  }

  /** Bytes the receiving application could read now (the FIN is no data). */
  private available(): number {
    const r = this.flow.rcv;
    return r.rcv_nxt - r.copied_seq - (r.finReceived ? 1 : 0);
  }

  /** Run the events of the next instant. */
  private runNext(sk: Sock): void {
    this.q.runUntil(this.q.peek());
    sk.net.now_ms = this.q.now / 1e6;
  }
}
