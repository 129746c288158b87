// The loopback path and its peer, as far as the send-side accounting sees them.
// On loopback a transmitted skb is delivered within the sending call (loopback_xmit ->
// netif_rx), the receiver's skb_orphan_frags_rx() copies zerocopy frags (so completions carry
// SO_EE_CODE_ZEROCOPY_COPIED), and the receiver's ACK is processed at release_sock(), freeing
// the skb in tcp_clean_rtx_queue() before the call returns.
//
// Modelled here: the zero window (`start: zero_window`: nothing leaves the write queue until
// the receiver reads), immediate delivery and ACK otherwise, TCP_CORK / MSG_MORE holding back
// a partial tail skb. Not modelled yet (the TCP-dynamics work): the receiver's advertised
// window filling up on a fresh connection, delayed ACKs, partial reads.
import { MAX_SKB_FRAGS, PAGE_SIZE } from '../model/skb_geometry.ts';
import type { Page, SkBuff } from '../model/skbuff.ts';
import type { Sock } from '../model/sock.ts';
import { sk_mem_reclaim } from '../model/sk_mem.ts';
import type { SendHooks } from '../model/tcp_sendmsg.ts';
import { tcp_wmem_free_skb } from '../model/tcp_skb.ts';

export const LOOPBACK_MTU = 65536;
/** TCP_DELACK_MIN (HZ/25): the receiver's delayed-ACK timer in pingpong mode. */
const DELACK_MIN_MS = 40;
/** GSO_LEGACY_MAX_SIZE: loopback's gso_max_size (ip -d link show lo). */
export const LOOPBACK_GSO_MAX_SIZE = 65536;

/**
 * The MSS a loopback connection settles on: MTU minus IP and TCP headers, clamped by the
 * advertised MSS (ipv4_default_advmss / ip6_default_advmss caps), minus the 12 bytes of the
 * timestamp option.
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

export class LoopbackPath implements SendHooks {
  /** The receiver's window has room (false while `start: zero_window` holds it at zero). */
  windowOpen: boolean;
  /**
   * The receiver's queue tail as skb_try_coalesce() sees it: its frag count and the end
   * sequence of the segment it was queued as (until the sender's original of that segment is
   * ACKed and freed, the tail is a clone). Null when the receiver has read everything.
   */
  private rcvTail: { nr_frags: number; end_seq: number } | null = null;
  /** Receive-side coalescing observers: the checkers' hook (src/checkers/kernel_coalesce.ts). */
  readonly coalesceObservers: CoalesceObserver[] = [];
  private readonly pages = new Map<number, Page>();

  constructor(
    start: 'fresh' | 'zero_window',
    private readonly rto_ms: number,
  ) {
    this.windowOpen = start === 'fresh';
  }

  userPage = (pn: number): Page => {
    let p = this.pages.get(pn);
    if (p === undefined) {
      p = { id: pn, kind: 'user', refs: 0 };
      this.pages.set(pn, p);
    }
    return p;
  };

  /**
   * tcp_send_mss() -> tcp_xmit_size_goal(): the sk_gso_max_size bound (gso_max_size minus
   * MAX_TCP_HEADER + 1) is below one loopback MSS, so gso_segs is 0 and the goal is one MSS.
   */
  sizeGoal(sk: Sock): number {
    const mss = sk.mss_cache;
    const bound = LOOPBACK_GSO_MAX_SIZE - (sk.net.cfg.max_tcp_header + 1);
    return Math.max(Math.floor(bound / mss) * mss, mss);
  }

  /** An skb reached size_goal inside the call: nothing the accounting sees changes (yet). */
  skbFull(_sk: Sock, _skb: SkBuff): void {}

  /** tcp_push(): with an open window, everything but a corked partial tail goes out and is ACKed. */
  push(sk: Sock, more: boolean): void {
    if (!this.windowOpen) return;
    const holdTail = sk.cork || more;
    this.transmit(sk, holdTail);
    this.ackAll(sk);
  }

  waitForSpace(sk: Sock): boolean {
    if (!this.windowOpen) return false;
    const before = sk.sk_wmem_queued;
    this.push(sk, false);
    return sk.sk_wmem_queued < before;
  }

  /** The receiver reads everything: the window opens for good and all data is sent and ACKed. */
  drain(sk: Sock): void {
    this.windowOpen = true;
    this.rcvTail = null;
    this.transmit(sk, false);
    this.ackAll(sk, true);
    this.rcvTail = null;
  }

  /** tcp_write_xmit(): move skbs to the retransmit queue; loopback delivery copies zerocopy frags. */
  private transmit(sk: Sock, holdTail: boolean): void {
    const mss = sk.mss_cache;
    while (sk.write_queue.length > 0) {
      const skb = sk.write_queue[0];
      const isTail = sk.write_queue.length === 1;
      if (holdTail && isTail && skb.len < mss) break;
      sk.write_queue.shift();
      sk.rtx_queue.push(skb);
      sk.snd_nxt = skb.end_seq;
      this.localDeliver(sk, skb);
      if (skb.uarg !== null) skb.uarg.zerocopy = false; // skb_orphan_frags_rx() on delivery
      // 5.x: the retransmit timer is armed and fires later even after the ACK cleared its work
      sk.write_timer_ms = sk.net.now_ms + this.rto_ms;
    }
  }

  /**
   * The receiver's tcp_queue_rcv() -> tcp_try_coalesce() -> skb_try_coalesce(tail, skb) (5.17
   * and 6.18 net/core/skbuff.c). It coalesces only into a tail that is no longer a clone (its
   * sender original was ACKed and freed: snd_una has passed it) when both fit in
   * MAX_SKB_FRAGS; the headers are pulled, so `from` has no linear data and the kernel then
   * checks from->truesize - SKB_TRUESIZE(skb_end_offset(from)) against from->len. Zerocopy
   * frags arrive copied by skb_orphan_frags_rx() into ceil(len / PAGE_SIZE) pages. The receive
   * queue's memory itself is not modelled.
   */
  private localDeliver(sk: Sock, skb: SkBuff): void {
    if (skb.len === 0) return; // FIN only: skb_try_coalesce() copies 0 bytes, no check
    const nr_frags = skb.uarg !== null ? Math.ceil(skb.len / PAGE_SIZE) : skb.nr_frags;
    const tail = this.rcvTail;
    if (tail !== null && sk.snd_una >= tail.end_seq && tail.nr_frags + nr_frags <= MAX_SKB_FRAGS) {
      for (const observe of this.coalesceObservers) observe(sk, skb);
      tail.nr_frags += nr_frags; // `to` stays the same skb: its clone state is its own
      return;
    }
    this.rcvTail = { nr_frags, end_seq: skb.end_seq };
  }

  /**
   * tcp_clean_rtx_queue(): the receiver ACKs everything delivered at once, except a FIN: the
   * receiver's tcp_fin() enters pingpong mode, so that ACK waits for its delayed-ACK timer.
   */
  private ackAll(sk: Sock, includingFin = false): void {
    const q = sk.rtx_queue;
    const last = q[q.length - 1];
    const holdFin = !includingFin && last !== undefined && last.fin;
    if (holdFin && this.finAckDueMs === null) this.finAckDueMs = sk.net.now_ms + DELACK_MIN_MS;
    for (const skb of q.splice(0, holdFin ? q.length - 1 : q.length)) tcp_wmem_free_skb(sk, skb);
    sk.snd_una = holdFin ? q[0].seq : sk.snd_nxt;
    if (!holdFin) this.finAckDueMs = null;
  }

  /** When the delayed ACK of a FIN arrives (simulated ms), or null. */
  finAckDueMs: number | null = null;

  /** True once the FIN is acknowledged: an orphan then goes away (tcp_time_wait). */
  finAcked(sk: Sock): boolean {
    return sk.write_seq === sk.snd_una && sk.queuesEmpty();
  }

  /** Let simulated time pass; 5.x reclaims fwd from tcp_write_timer_handler(). */
  advance(sk: Sock, ms: number): void {
    sk.net.now_ms += ms;
    if (this.finAckDueMs !== null && sk.net.now_ms >= this.finAckDueMs) this.ackAll(sk, true);
    if (sk.write_timer_ms !== null && sk.net.now_ms >= sk.write_timer_ms) {
      sk.write_timer_ms = null;
      if (sk.profile.mem.timerReclaim) sk_mem_reclaim(sk);
    }
  }
}
