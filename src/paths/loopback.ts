// The loopback path: the sender's transmit engine (src/tcp/tcp_output.ts), a receiving peer
// (src/tcp/tcp_input.ts, src/tcp/tcp.ts) and simulated time between them.
//
// On loopback a transmitted clone is delivered within the sending call (loopback_xmit ->
// netif_rx, processed when the sender's bottom halves run again): the receiver queues it
// (skb_orphan_frags_rx() copies zerocopy frags first, so completions carry
// SO_EE_CODE_ZEROCOPY_COPIED), updates its window and ACKs now or arms its delayed-ACK timer.
// An ACK that reaches the sender while the socket is owned by the sending task waits in the
// socket backlog until release_sock() (__release_sock -> tcp_v4_do_rcv -> tcp_ack); otherwise
// it is processed at once. ACK processing frees skbs (tcp_clean_rtx_queue) and sends more
// (tcp_data_snd_check). Timers run only when simulated time advances (`sleep`, the
// zero-window filler's wait for SIOCOUTQ 0).
import { PAGE_SIZE, roundupPowOfTwo, SIZEOF_SK_BUFF, SIZEOF_SKB_SHARED_INFO, SKB_DATA_ALIGN } from '../model/skb_geometry.ts';
import type { SkBuff } from '../model/skbuff.ts';
import type { Sock } from '../model/sock.ts';
import { sk_mem_reclaim } from '../model/sk_mem.ts';
import { splice_file_to_socket } from '../model/syscalls.ts';
import { tcp_cleanup_rbuf, tcp_recvmsg, tcp_sock_set_quickack, tcp_connect_loopback, type RcvOptions } from '../tcp/tcp.ts';
import {
  RcvSock, segmentOf, tcp_ack, tcp_delack_timer, tcp_rcv_data, TCP_RTO_MAX_MS, TCP_RTO_MIN_MS, TCP_TIMEOUT_MIN_MS, type Ack,
} from '../tcp/tcp_input.ts';
import type { NetSysctls } from '../profiles/types.ts';
import type { Connection } from '../scenario/schema.ts';
import type { Path } from './path.ts';
import {
  forced_push, sk_gso_max_size, TCP_NAGLE_CORK, TCP_NAGLE_PUSH, tcp_mark_push, tcp_nagle_test, tcp_sync_mss, tcp_write_xmit,
  tcp_xmit_size_goal, tp_nonagle, type Wire,
} from '../tcp/tcp_output.ts';

export const LOOPBACK_MTU = 65536;
/** GSO_LEGACY_MAX_SIZE: loopback's gso_max_size (ip -d link show lo). */
export const LOOPBACK_GSO_MAX_SIZE = 65536;
/** The zero-window filler's file: its pages live far from user buffers (page identity). */
const FILLER_FILE_BASE = 2 ** 46;
/** The live backend's recv gives up after this long without data (src/backends/live/run.ts receive()). */
const RECV_IDLE_MS = 200;
/** Bound on the timers one wait may fire (each delayed ACK can let out a segment that re-arms it). */
const MAX_TIMERS_PER_WAIT = 1_000_000;

/**
 * The MSS a loopback connection settles on: MTU minus IP and TCP headers, clamped by the
 * advertised MSS (ipv4_default_advmss / ip6_default_advmss caps), minus the 12 bytes of the
 * timestamp option. mss_cache is further bounded by half of max_window (tcp_sync_mss).
 */
export function loopbackMss(family: 'ipv4' | 'ipv6'): { mss_clamp: number; mss_cache: number } {
  const ipHdr = family === 'ipv4' ? 20 : 40;
  const fromMtu = LOOPBACK_MTU - ipHdr - 20;
  const advmssCap = family === 'ipv4' ? 65535 - 40 : 65535 - 20;
  const mss_clamp = Math.min(fromMtu, advmssCap);
  return { mss_clamp, mss_cache: mss_clamp - 12 };
}

/** Called when the receiver's skb_try_coalesce(to, from) reaches its WARN_ON_ONCE(delta < len). */
export type CoalesceObserver = (sk: Sock, from: SkBuff) => void;

export interface LoopbackOptions {
  family: 'ipv4' | 'ipv6';
  /** connection.receiver.rcvbuf: SO_RCVBUF on the listener (locks the receive buffer). */
  rcvbuf?: number;
  /** The route's locked cwnd (or initcwnd). */
  cwnd: number;
}

export class LoopbackPath implements Path, Wire {
  readonly kind = 'loopback';
  /** Receive-side coalescing observers: the checkers' hook (src/checkers/kernel_coalesce.ts). */
  readonly coalesceObservers: CoalesceObserver[] = [];
  readonly pcount = new Map<SkBuff, number>();
  /** The peer, once connected. */
  rcv: RcvSock | null = null;
  /** icsk_pending of the write timer: a loss probe, or a zero-window probe with its backoff. */
  private tlpPending = false;
  private probe0Pending = false;
  private probe0Backoff = 0;
  /** The sender is inside a system call (lock_sock): ACKs wait in the backlog. */
  private owned = false;
  private readonly backlog: Ack[] = [];
  private processing = false;
  private mtuMss = 536;

  constructor(
    private readonly start: 'fresh' | 'zero_window',
    private readonly rto_ms: number,
  ) {}

  private gsoMax(sk: Sock): number {
    return sk_gso_max_size(sk, LOOPBACK_GSO_MAX_SIZE);
  }

  /** Path.establish(): the scenario's connection; MSS, tcp_init_buffer_space() -> tcp_sndbuf_expand(), then connect(). */
  establish(sk: Sock, conn: Connection, sysctl: NetSysctls): void {
    const { mss_clamp, mss_cache } = loopbackMss(conn.family);
    sk.mss_cache = mss_cache;
    const route = conn.route;
    const cwnd = route.cwnd_lock ?? route.initcwnd ?? 10;
    if (!sk.sndbuf_locked) {
      // tcp_sndbuf_expand(): 2 (bbr: 3) * max(10, cwnd) * per-MSS truesize, capped by tcp_wmem[2]
      const perMss = roundupPowOfTwo(Math.max(mss_clamp, mss_cache) + sk.net.cfg.max_tcp_header + SKB_DATA_ALIGN(SIZEOF_SKB_SHARED_INFO)) + SKB_DATA_ALIGN(SIZEOF_SK_BUFF);
      const nrSegs = Math.max(10, cwnd, 3 + 1);
      const factor = conn.congestion === 'bbr' ? 3 : 2; // bbr_sndbuf_expand() returns 3
      const sndmem = factor * nrSegs * perMss;
      if (sk.sk_sndbuf < sndmem) sk.sk_sndbuf = Math.min(sndmem, sysctl['net.ipv4.tcp_wmem'][2]);
    }
    // net.core.rmem_max is no scenario sysctl; its default equals wmem_max's in every profile
    this.connect(sk, { family: conn.family, rcvbuf: conn.receiver?.rcvbuf, cwnd }, { rmem: sysctl['net.ipv4.tcp_rmem'], rmemMax: sysctl['net.core.wmem_max'] });
  }

  /** Path.disconnected(): tcp_disconnect() already purged the queues; nothing is in flight on loopback. */
  disconnected(_sk: Sock): void {}

  /**
   * The three-way handshake (tcp_connect_loopback), then for `start: zero_window` the live
   * backend's filler: wait for SIOCOUTQ 0, sendfile() exactly snd_wnd bytes, until the offered
   * window is 0. Every filler skb is ACKed and freed; the accounting it leaves (on 6.x none:
   * reclaim on every uncharge) is then reclaimed and the ledger restarts, as the live run's
   * observation starts after the fill.
   */
  connect(sk: Sock, opts: LoopbackOptions, sysctl: { rmem: [number, number, number]; rmemMax: number }): void {
    const { mss_clamp, mss_cache } = loopbackMss(opts.family);
    this.mtuMss = mss_cache;
    const ro: RcvOptions = { rcvbuf: opts.rcvbuf, rmem: sysctl.rmem, rmemMax: sysctl.rmemMax, advmss: mss_cache };
    this.rcv = tcp_connect_loopback(sk, ro, mss_clamp);
    this.rcv.rto_ms = this.rto_ms; // the peer shares the route (its rto_min)
    sk.snd_cwnd = opts.cwnd;
    tcp_sync_mss(sk, this.mtuMss);
    if (this.start === 'zero_window') this.fillWindow(sk, sysctl.rmem[2]);
  }

  private fillWindow(sk: Sock, rmem2: number): void {
    const cork = sk.cork;
    sk.cork = false;
    let off = 0;
    for (let round = 0; round < 10000; round++) {
      this.waitOutqEmpty(sk);
      const wnd = sk.snd_wnd;
      if (wnd === 0) break;
      off = this.sendfile(sk, off, wnd);
    }
    sk.cork = cork;
    void rmem2;
    sk_mem_reclaim(sk);
    for (const k of Object.keys(sk.ledger) as (keyof typeof sk.ledger)[]) sk.ledger[k] = 0;
  }

  /** The filler's wait: let simulated time run until everything sent is ACKed (delayed ACKs fire). */
  private waitOutqEmpty(sk: Sock): void {
    for (let n = 0; n < 1000 && sk.write_seq !== sk.snd_una; n++) {
      const r = this.rcv!;
      if (r.delackDueMs === null) break;
      this.advance(sk, Math.max(0, r.delackDueMs - sk.net.now_ms));
    }
  }

  /** sendfile() of `len` bytes at file offset `off` (the filler's file); returns the new offset. */
  private sendfile(sk: Sock, off: number, len: number): number {
    const ret = splice_file_to_socket(sk, this, FILLER_FILE_BASE, off, len, false);
    if (ret <= 0) throw new Error(`zero-window filler: sendfile made no progress (${ret})`);
    return off + ret;
  }

  // ---- SendHooks ----

  /** tcp_send_mss(): lock_sock() was taken; size_goal from tcp_xmit_size_goal() with the cached gso_segs. */
  sizeGoal(sk: Sock): number {
    return tcp_xmit_size_goal(sk, sk.mss_cache, this.gsoMax(sk));
  }

  /** An skb reached size_goal inside the call: forced_push() -> __tcp_push_pending_frames(PUSH), or tcp_push_one() for the send head. */
  skbFull(sk: Sock, skb: SkBuff): void {
    if (forced_push(sk)) {
      tcp_mark_push(sk, skb);
      this.pushPending(sk, TCP_NAGLE_PUSH, false);
    } else if (sk.write_queue[0] === skb) this.pushPending(sk, TCP_NAGLE_PUSH, true);
  }

  /**
   * tcp_push(): PSH on the tail unless MSG_MORE (or forced), MSG_MORE corks this push;
   * wait_for_space pushes with TCP_NAGLE_PUSH (`naglePush`), the end of the call with tp->nonagle.
   * tcp_should_autocork() never holds on loopback: the transmitted clones are orphaned by
   * loopback_xmit(), so sk_wmem_alloc never exceeds the tail's truesize.
   */
  push(sk: Sock, more: boolean, naglePush = false): void {
    const tail = sk.write_queue[sk.write_queue.length - 1];
    if (tail === undefined) return;
    if (!more || forced_push(sk)) tcp_mark_push(sk, tail);
    this.pushPending(sk, more ? TCP_NAGLE_CORK : naglePush ? TCP_NAGLE_PUSH : tp_nonagle(sk), false);
  }

  /** sk_stream_wait_memory() of a blocking call: the lock is dropped, the backlog runs, timers may fire. */
  waitForSpace(sk: Sock): boolean {
    const before = sk.sk_wmem_queued;
    this.release(sk);
    // still no room: sleep until the receiver's delayed ACK frees something (simulated time)
    const r = this.rcv;
    if (sk.sk_wmem_queued >= before && r !== null && r.delackDueMs !== null) this.advance(sk, Math.max(0, r.delackDueMs - sk.net.now_ms));
    this.owned = true;
    return sk.sk_wmem_queued < before;
  }

  /**
   * sk_flush_backlog() inside tcp_sendmsg_locked(): the ACKs delivered while the call held the
   * lock are processed now (__release_sock with the lock kept), each followed by
   * tcp_data_snd_check(); true if there were any.
   */
  flushBacklog(sk: Sock): boolean {
    if (this.backlog.length === 0) return false;
    this.runBacklog(sk);
    return true;
  }

  /** lock_sock(): from now on ACKs wait in the backlog. */
  lock(_sk: Sock): void {
    this.owned = true;
  }

  /** release_sock(): process the ACKs that waited in the backlog (they may send more, whose ACKs follow). */
  release(sk: Sock): void {
    this.owned = false;
    this.runBacklog(sk);
  }

  /** __tcp_push_pending_frames() / tcp_push_one(). */
  private pushPending(sk: Sock, nonagle: number, pushOne: boolean): void {
    if (sk.state === 'CLOSE') return;
    tcp_write_xmit(sk, sk.mss_cache, nonagle, pushOne, this, this.gsoMax(sk));
    // tcp_write_xmit() returned true (nothing in flight, data queued): tcp_check_probe_timer()
    if (!pushOne && sk.packets_out === 0 && sk.write_queue.length > 0) this.tcp_check_probe_timer(sk);
  }

  /**
   * tcp_check_probe_timer(): with nothing in flight and data queued (a zero window), the
   * zero-window probe timer is armed at tcp_probe0_base() = max(RTO, TCP_RTO_MIN) unless some
   * timer work is already pending. Each firing probes (a window probe, no data: not modelled),
   * backs off (doubling, up to TCP_RTO_MAX) and, on 5.x, ends in sk_mem_reclaim().
   */
  private tcp_check_probe_timer(sk: Sock): void {
    if (this.probe0Pending || this.tlpPending) return;
    this.probe0Pending = true;
    sk.write_timer_ms = sk.net.now_ms + Math.max(this.rto_ms, TCP_RTO_MIN_MS);
  }

  /**
   * The retransmit timer as tcp_schedule_loss_probe() arms it when data went out, and as an ACK
   * leaves it (tcp_set_xmit_timer(): re-armed while packets are out; with none, tcp_rearm_rto()
   * only clears the work and the timer keeps its expiry). On loopback srtt is microseconds: the
   * probe is due 1 jiffy (2 srtt, rounded up) plus TCP_TIMEOUT_MIN (2 ms), or plus RTO_MIN with
   * one packet out, and no later than the RTO (rto_min here), counted from now. Only its expiry
   * is modelled: 5.x reclaims when it fires (the probe a real kernel may send then is not).
   */
  private tcp_schedule_loss_probe(sk: Sock): void {
    if (sk.packets_out === 0) {
      this.tlpPending = false; // tcp_rearm_rto(): the work is cleared, the expiry stays
      return;
    }
    this.tlpPending = true;
    this.probe0Pending = false;
    this.probe0Backoff = 0;
    const rtoMin = sk.profile.output.tlpAddsRouteRtoMin ? this.rto_ms : TCP_RTO_MIN_MS;
    const timeout = Math.min(1 + (sk.packets_out === 1 ? rtoMin : TCP_TIMEOUT_MIN_MS), this.rto_ms);
    sk.write_timer_ms = sk.net.now_ms + timeout;
  }

  // ---- Wire: delivery to the receiver ----

  transmit(sk: Sock, skb: SkBuff): void {
    const r = this.rcv!;
    const seg = segmentOf(skb, sk.mss_cache, this.pcount.get(skb) ?? 1, PAGE_SIZE);
    if (skb.uarg !== null) skb.uarg.zerocopy = false; // skb_orphan_frags_rx() on delivery
    // the probe tcp_write_xmit() schedules once it has sent, armed before this delivery's ACK
    // can come back (on a real loopback it comes in a later softirq)
    this.tcp_schedule_loss_probe(sk);
    r.senderUna = sk.snd_una;
    const onCoalesce = this.coalesceObservers.length > 0 ? () => this.coalesceObservers.forEach((o) => o(sk, skb)) : null;
    const ack = tcp_rcv_data(r, seg, sk.net.now_ms, this.rmem2(sk), onCoalesce);
    if (ack !== null) this.ackArrives(sk, ack);
  }

  private rmem2(sk: Sock): number {
    return sk.net.sysctl['net.ipv4.tcp_rmem'][2];
  }

  /** An ACK reaches the sender: the backlog while owned, else tcp_v4_do_rcv() at once. */
  private ackArrives(sk: Sock, ack: Ack): void {
    this.backlog.push(ack);
    if (!this.owned) this.runBacklog(sk);
  }

  private runBacklog(sk: Sock): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.backlog.length > 0) {
        const a = this.backlog.shift()!;
        tcp_ack(sk, a, this, () => tcp_sync_mss(sk, this.mtuMss));
        if (this.rcv !== null) this.rcv.senderUna = sk.snd_una;
        this.tcp_schedule_loss_probe(sk); // tcp_set_xmit_timer() (nothing out: the expiry stays)
        // tcp_data_snd_check() -> tcp_push_pending_frames() with tp->nonagle
        this.pushPending(sk, tp_nonagle(sk), false);
      }
    } finally {
      this.processing = false;
    }
  }

  // ---- the receiver's reads ----

  /**
   * `recv {bytes}` as the live backend does it: TCP_QUICKACK on the receiver (leaves pingpong,
   * pushes out a scheduled ACK through tcp_cleanup_rbuf), then non-blocking reads
   * (tcp_recvmsg -> tcp_cleanup_rbuf) until `bytes` arrived, polling while idle for at most
   * RECV_IDLE_MS: a delayed ACK due in that time fires and may let more data in.
   */
  recv(sk: Sock, bytes: number): number {
    const r = this.rcv!;
    this.quickAck(sk);
    let got = 0;
    while (got < bytes) {
      const n = this.readOnce(sk, bytes - got);
      if (n > 0) {
        got += n;
        continue;
      }
      if (r.finReceived && r.copied_seq + 1 >= r.rcv_nxt) break; // EOF
      const due = r.delackDueMs;
      if (due !== null && due <= sk.net.now_ms + RECV_IDLE_MS) this.advance(sk, Math.max(0, due - sk.net.now_ms));
      else {
        this.advance(sk, RECV_IDLE_MS);
        break;
      }
    }
    return got;
  }

  /** `drain`: quick-ACK, read everything, until the sender's queue is empty; time passes while waiting (delayed ACKs). */
  drain(sk: Sock): void {
    const r = this.rcv!;
    for (let i = 0; i < 100000; i++) {
      this.quickAck(sk);
      while (this.readOnce(sk, 1 << 30) > 0);
      if (sk.snd_una === sk.write_seq && sk.queuesEmpty()) return;
      if (r.delackDueMs === null) return; // nothing will change any more
      this.advance(sk, Math.max(0, r.delackDueMs - sk.net.now_ms));
    }
  }

  private quickAck(sk: Sock): void {
    const r = this.rcv!;
    r.senderUna = sk.snd_una;
    const a = tcp_sock_set_quickack(r);
    if (a !== null) this.ackArrives(sk, a);
  }

  private readOnce(sk: Sock, len: number): number {
    const r = this.rcv!;
    r.senderUna = sk.snd_una;
    const n = tcp_recvmsg(r, len);
    const a = tcp_cleanup_rbuf(r, n);
    if (a !== null) this.ackArrives(sk, a);
    return n;
  }

  /** True once the FIN is acknowledged: an orphan then goes away (tcp_time_wait). */
  finAcked(sk: Sock): boolean {
    return sk.write_seq === sk.snd_una && sk.queuesEmpty();
  }

  /**
   * Let simulated time pass, firing every timer that falls due on the way, in time order: the
   * receiver's delayed ACK (tcp_delack_timer_handler(), net/ipv4/tcp_timer.c) and, on 5.x, the
   * sender's write timer that reclaims fwd (tcp_write_timer_handler()). A delayed ACK lets the
   * sender transmit more (tcp_data_snd_check), whose arrival re-arms the receiver's timer
   * (tcp_send_delayed_ack(), net/ipv4/tcp_output.c), so several can fire in one wait.
   */
  advance(sk: Sock, ms: number): void {
    const end = sk.net.now_ms + ms;
    const r = this.rcv;
    // each round fires one timer; a timer re-armed by it lies later in time, so this ends (the
    // bound turns a model bug that re-arms a timer in place into an error, never a hang)
    for (let n = 0; ; n++) {
      if (n === MAX_TIMERS_PER_WAIT) throw new Error(`LoopbackPath.advance: more than ${MAX_TIMERS_PER_WAIT} timers in one wait of ${ms} ms`);
      const delack = r !== null && r.delackDueMs !== null && r.delackDueMs <= end ? r.delackDueMs : null;
      const wt = sk.write_timer_ms !== null && sk.write_timer_ms <= end ? sk.write_timer_ms : null;
      if (delack === null && wt === null) break;
      if (delack !== null && (wt === null || delack <= wt)) {
        sk.net.now_ms = Math.max(sk.net.now_ms, delack);
        const a = tcp_delack_timer(r!);
        if (a !== null) this.ackArrives(sk, a);
      } else {
        sk.net.now_ms = Math.max(sk.net.now_ms, wt!);
        // tcp_write_timer_handler(): with packets still out the kernel probes and re-arms the RTO;
        // a pending zero-window probe re-arms itself with backoff while the window stays shut
        this.tlpPending = false;
        if (sk.packets_out > 0) sk.write_timer_ms = sk.net.now_ms + this.rto_ms;
        else if (this.probe0Pending && sk.write_queue.length > 0) {
          this.probe0Backoff = Math.min(this.probe0Backoff + 1, 15);
          const base = Math.max(this.rto_ms, TCP_RTO_MIN_MS);
          sk.write_timer_ms = sk.net.now_ms + Math.min(base * 2 ** this.probe0Backoff, TCP_RTO_MAX_MS);
        } else {
          this.probe0Pending = false;
          sk.write_timer_ms = null;
        }
        if (sk.profile.mem.timerReclaim) sk_mem_reclaim(sk);
      }
    }
    sk.net.now_ms = end;
  }
}

void tcp_nagle_test;
