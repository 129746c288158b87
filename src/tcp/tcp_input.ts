// The receiving peer (its tcp_sock as far as windows and ACKs go) and the sender's ACK processing.
// Mirrors net/ipv4/tcp_input.c (6.18 bd3afa6f0): tcp_measure_rcv_mss, tcp_incr_quickack,
// tcp_in_quickack_mode, tcp_grow_window/__tcp_grow_window/truesize_adjust, tcp_event_data_recv,
// tcp_queue_rcv/tcp_try_coalesce (-> net/core/skbuff.c skb_try_coalesce), tcp_fin (pingpong),
// __tcp_ack_snd_check, tcp_send_delayed_ack (tcp_output.c), tcp_dec_quickack_mode (tcp.h),
// and on the sender tcp_ack -> tcp_ack_update_window, tcp_clean_rtx_queue (tcp_trim_head for
// a partial ACK), tcp_data_snd_check. Written from the kernel source, not copied.
import { SKB_TRUESIZE, MAX_SKB_FRAGS } from '../model/skb_geometry.ts';
import type { SkBuff } from '../model/skbuff.ts';
import { lastOf, type Sock } from '../model/sock.ts';
import { tcp_trim_head, tcp_wmem_free_skb } from '../model/tcp_skb.ts';
import type { RcvWindowPolicy } from '../profiles/types.ts';
import { __tcp_select_window, tcp_receive_window, tcp_select_window, tcp_space, tcp_win_from_space, type Wire } from './tcp_output.ts';

/** TCP_MAX_QUICKACKS, TCP_ATO_MIN (HZ/25 = 40 ms), TCP_DELACK_MAX (HZ/5), TCP_DEFAULT_SCALING_RATIO. */
export const TCP_MAX_QUICKACKS = 16;
export const TCP_ATO_MIN_MS = 40;
const TCP_DEFAULT_SCALING_RATIO = 128;

/** One entry of the receive queue: a delivered clone, maybe with later segments coalesced into it. */
interface RcvEntry {
  end_seq: number;
  truesize: number;
  nr_frags: number;
  /** end_seq of the sender original this head clone belongs to: cloned until snd_una passes it (0: a head of its own, never cloned). */
  orig_end_seq: number;
}

/** A segment as it arrives: what the receiver can see of the transmitted clone. */
export interface Segment {
  seq: number;
  end_seq: number;
  len: number;
  truesize: number;
  /** skb_shinfo(skb)->gso_size ? : skb->len, as tcp_measure_rcv_mss() sees it. */
  seg_len: number;
  nr_frags: number;
  end_offset: number;
  psh: boolean;
  fin: boolean;
  /**
   * The segment arrives with a head of its own rather than as a clone sharing the sender's
   * original: loopback delivery of a zerocopy skb, which skb_orphan_frags_rx() (called from
   * ip_local_deliver_finish(), net/ipv4/ip_input.c; ip6_input.c likewise) hands to
   * skb_copy_ubufs() (net/core/skbuff.c), whose skb_unclone() -> pskb_expand_head() gives the
   * clone a private head first (same end_offset, so the same truesize). skb_try_coalesce()'s
   * skb_cloned(to) test then never refuses to append to it. Absent: a clone (or, on a link,
   * whatever the path says by its senderUna).
   */
  privateHead?: boolean;
}

/** The ACK the receiver sends: cumulative ack and the window as the sender decodes it. */
export interface Ack {
  ack: number;
  win: number;
}

/** The peer's tcp_sock: receive window, queue memory, delayed-ACK engine. */
export class RcvSock {
  rcvbuf: number;
  rcvbufLocked: boolean;
  rmem_alloc = 0;
  rcv_nxt = 0;
  rcv_wup = 0;
  copied_seq = 0;
  rcv_wnd = 0;
  rcv_ssthresh = 0;
  window_clamp = 0;
  rcv_wscale = 0;
  scaling_ratio = TCP_DEFAULT_SCALING_RATIO;
  advmss: number;
  /** icsk_ack: rcv_mss, quick, pingpong, ato (ms, 0 = no data yet), pending (scheduled), pushed flags, timer. */
  rcv_mss = TCP_MSS_DEFAULT_RCV;
  quick = 0;
  pingpong = false;
  ato = 0;
  ackScheduled = false;
  pushed = false;
  pushed2 = false;
  delackDueMs: number | null = null;
  /** icsk_ack.lrcvtime: jiffies (ms) of the last data segment. */
  lrcvtime = 0;
  /**
   * The peer's icsk_rto, ms: with a microsecond RTT it is the route's rto_min (the path sets it;
   * TCP_RTO_MIN by default). It caps ato and tells an idle gap from a pause.
   */
  rto_ms = TCP_RTO_MIN_MS;
  finReceived = false;
  /** sk_rcvlowat (SO_RCVLOWAT, default 1): __tcp_ack_snd_check() ACKs at once while fewer bytes are queued. */
  rcvlowat = 1;
  readonly queue: RcvEntry[] = [];

  constructor(
    rcvbuf: number,
    locked: boolean,
    advmss: number,
    /** The kernel version's window arithmetic (the profile's). */
    readonly policy: RcvWindowPolicy,
  ) {
    this.rcvbuf = rcvbuf;
    this.rcvbufLocked = locked;
    this.advmss = advmss;
  }

  /** The queue's tail coalescing check needs to know whether the sender still holds the original. */
  senderUna = 0;
}
const TCP_MSS_DEFAULT_RCV = 536;

/**
 * tcp_measure_rcv_mss(): a segment at least rcv_mss long resets rcv_mss and, when its length
 * differs, scaling_ratio = len / truesize (then window_clamp follows tcp_win_from_space(rcvbuf)).
 * A PSH on such a segment marks ICSK_ACK_PUSHED; shorter segments mark PUSHED (then PUSHED2).
 */
function tcp_measure_rcv_mss(r: RcvSock, s: Segment): void {
  const len = s.seg_len;
  if (len >= r.rcv_mss) {
    if (len !== r.rcv_mss && r.policy.learnsScalingRatio) {
      const old = r.scaling_ratio;
      r.scaling_ratio = Math.max(1, Math.floor((s.len * 256) / s.truesize));
      if (old !== r.scaling_ratio) r.window_clamp = tcp_set_window_clamp(r, tcp_win_from_space(r, r.rcvbuf));
    }
    r.rcv_mss = Math.min(len, r.advmss);
    if (s.psh && r.policy.pushedOnFullSegment) r.pushed = true;
  } else {
    // the header-length heuristics for sub-MSS segments only matter for last_seg_size
    if (r.pushed) r.pushed2 = true;
    r.pushed = true;
  }
}

/** tcp_set_window_clamp(): the new clamp; rcv_ssthresh is capped by it. */
function tcp_set_window_clamp(r: RcvSock, val: number): number {
  r.rcv_ssthresh = Math.min(r.rcv_ssthresh, val);
  return val;
}

/** tcp_incr_quickack(): rcv_wnd / (2 * rcv_mss) quick ACKs (2 when 0), at most max. */
function tcp_incr_quickack(r: RcvSock, max: number): void {
  let q = Math.floor(r.rcv_wnd / (2 * r.rcv_mss));
  if (q === 0) q = 2;
  q = Math.min(q, max);
  if (q > r.quick) r.quick = q;
}

/** tcp_enter_quickack_mode() */
export function tcp_enter_quickack_mode(r: RcvSock, max: number): void {
  tcp_incr_quickack(r, max);
  r.pingpong = false;
  r.ato = TCP_ATO_MIN_MS;
}

const tcp_in_quickack_mode = (r: RcvSock): boolean => r.quick > 0 && !r.pingpong;

/** tcp_grow_window(): raise rcv_ssthresh when the segment's len/truesize makes the window worth it. */
function tcp_grow_window(r: RcvSock, s: Segment, rmem2: number): void {
  const room = Math.min(r.window_clamp, tcp_space(r)) - r.rcv_ssthresh;
  if (room <= 0) return;
  // truesize_adjust(): a headless skb does not count its head
  // (a transmitted TCP skb arrives with all payload in frags once its headers are pulled)
  let truesize = s.truesize - SKB_TRUESIZE(s.end_offset);
  if (truesize < s.len) truesize = s.truesize;
  let incr: number;
  if (tcp_win_from_space(r, truesize) <= s.len) incr = 2 * r.advmss;
  else incr = __tcp_grow_window(r, s, truesize, rmem2);
  if (incr) {
    incr = Math.max(incr, 2 * s.len);
    r.rcv_ssthresh += Math.min(room, incr);
    r.quick |= 1;
  }
}

/** __tcp_grow_window(): the slow part of check #2. */
function __tcp_grow_window(r: RcvSock, s: Segment, skbtruesize: number, rmem2: number): number {
  let truesize = tcp_win_from_space(r, skbtruesize) >> 1;
  let window = tcp_win_from_space(r, rmem2) >> 1;
  while (r.rcv_ssthresh <= window) {
    if (truesize <= s.len) return 2 * r.rcv_mss;
    truesize >>= 1;
    window >>= 1;
  }
  return 0;
}

/**
 * The receiver's side of one in-order segment: tcp_data_queue() -> tcp_queue_rcv() (coalesce
 * into the tail when skb_try_coalesce() allows: the tail is no longer a clone, frags fit in
 * MAX_SKB_FRAGS; rmem grows by truesize minus the freed head, else by the whole truesize),
 * tcp_event_data_recv(), tcp_fin(), then __tcp_ack_snd_check(). Returns the ACK to send now,
 * or null (a delayed ACK is scheduled instead).
 */
export function tcp_rcv_data(r: RcvSock, s: Segment, nowMs: number, rmem2: number, onCoalesce: (() => void) | null): Ack | null {
  if (s.len > 0) {
    const tail = lastOf(r.queue);
    const tailCloned = tail !== undefined && r.senderUna < tail.orig_end_seq;
    if (tail !== undefined && tail.end_seq === s.seq && !tailCloned && tail.nr_frags + s.nr_frags <= MAX_SKB_FRAGS) {
      onCoalesce?.();
      tail.end_seq = s.end_seq;
      tail.nr_frags += s.nr_frags;
      const delta = s.truesize - SKB_TRUESIZE(s.end_offset);
      tail.truesize += delta;
      r.rmem_alloc += delta;
    } else {
      r.queue.push({ end_seq: s.end_seq, truesize: s.truesize, nr_frags: s.nr_frags, orig_end_seq: s.privateHead === true ? 0 : s.end_seq });
      r.rmem_alloc += s.truesize;
    }
    r.rcv_nxt = s.seq + s.len;
    tcp_event_data_recv(r, s, nowMs, rmem2);
  }
  if (s.fin) {
    // tcp_fin(): schedule an ACK, CLOSE_WAIT, enter pingpong mode (the FIN's ACK is delayed)
    r.rcv_nxt = s.end_seq;
    r.ackScheduled = true;
    r.pingpong = true;
    r.finReceived = true;
  }
  return __tcp_ack_snd_check(r, nowMs);
}

/** tcp_event_data_recv() */
function tcp_event_data_recv(r: RcvSock, s: Segment, nowMs: number, rmem2: number): void {
  r.ackScheduled = true; // inet_csk_schedule_ack()
  tcp_measure_rcv_mss(r, s);
  const now = Math.floor(nowMs); // jiffies (HZ 1000)
  if (r.ato === 0) {
    tcp_incr_quickack(r, TCP_MAX_QUICKACKS);
    r.ato = TCP_ATO_MIN_MS;
  } else {
    // ato follows the gap m since the last segment; a gap longer than the peer's RTO means the
    // sender failed to restart its window: quick ACKs again
    const m = now - r.lrcvtime;
    if (m <= TCP_ATO_MIN_MS / 2) r.ato = (r.ato >> 1) + TCP_ATO_MIN_MS / 2;
    else if (m < r.ato) r.ato = Math.min((r.ato >> 1) + m, r.rto_ms);
    else if (m > r.rto_ms) tcp_incr_quickack(r, TCP_MAX_QUICKACKS);
  }
  r.lrcvtime = now;
  if (s.len >= 128) tcp_grow_window(r, s, rmem2);
}

/** __tcp_ack_snd_check(): ACK now, or schedule the delayed ACK. */
export function __tcp_ack_snd_check(r: RcvSock, nowMs: number): Ack | null {
  // more than one full frame received, and the window's right edge advances far enough, or the
  // reader's SO_RCVLOWAT is not yet satisfied (tcp_recvmsg() would otherwise not ACK in time)
  const moreThanOne = r.rcv_nxt - r.rcv_wup > r.rcv_mss && (r.rcv_nxt - r.copied_seq < r.rcvlowat || __tcp_select_window(r) >= r.rcv_wnd);
  if (moreThanOne || tcp_in_quickack_mode(r)) return tcp_send_ack(r);
  // tcp_send_delayed_ack(): a timer already pending and due within ato / 4 means ACK now;
  // otherwise the earlier of the two expiries stands
  const ato = tcp_delack_delay_ms(r);
  if (r.delackDueMs !== null) {
    if (r.delackDueMs <= nowMs + (ato >> 2)) return tcp_send_ack(r);
    if (nowMs + ato < r.delackDueMs) r.delackDueMs = nowMs + ato;
  } else r.delackDueMs = nowMs + ato;
  return null;
}

/** TCP_DELACK_MIN (HZ/25), ms. */
const TCP_DELACK_MIN_MS = 40;
/** TCP_RTO_MIN (HZ/5), TCP_RTO_MAX (120 s) and TCP_TIMEOUT_MIN (2 jiffies), ms at HZ 1000. */
export const TCP_RTO_MIN_MS = 200;
export const TCP_RTO_MAX_MS = 120_000;
export const TCP_TIMEOUT_MIN_MS = 2;

/**
 * tcp_send_delayed_ack(): the delay is ato, capped when above TCP_DELACK_MIN by HZ/2 (or
 * TCP_DELACK_MAX in pingpong mode or after a push) and by max(srtt, TCP_DELACK_MIN). Every path
 * modelled has an srtt far below TCP_DELACK_MIN, so that last cap decides: TCP_DELACK_MIN.
 */
function tcp_delack_delay_ms(r: RcvSock): number {
  return Math.min(r.ato, TCP_DELACK_MIN_MS);
}

/**
 * tcp_epollin_ready() (include/net/tcp.h, 5.17 and 6.18): data is queued and at least `target`
 * bytes of it, or the receive queue is under memory pressure (tcp_rmem_pressure: rmem above
 * 7/8 of rcvbuf), or what is left of the offered window is at most one rcv_mss.
 */
export function tcp_epollin_ready(r: RcvSock, target: number): boolean {
  const avail = r.rcv_nxt - r.copied_seq; // a FIN's sequence byte counts, as in the kernel
  if (avail <= 0) return false;
  return avail >= target || r.rmem_alloc > r.rcvbuf - (r.rcvbuf >> 3) || tcp_receive_window(r) <= r.rcv_mss;
}

/** tcp_send_ack(): select the window, clear the pending ACK (tcp_event_ack_sent -> tcp_dec_quickack_mode). */
export function tcp_send_ack(r: RcvSock): Ack {
  const win = tcp_select_window(r);
  if (r.quick) {
    const pkts = r.ackScheduled || !r.policy.quickAckCountsOnlyScheduled ? 1 : 0;
    if (pkts >= r.quick) {
      r.quick = 0;
      r.ato = TCP_ATO_MIN_MS;
    } else r.quick -= pkts;
  }
  r.ackScheduled = false;
  r.pushed = r.pushed2 = false;
  r.delackDueMs = null;
  return { ack: r.rcv_nxt, win };
}

/**
 * tcp_delack_timer_handler(): a scheduled ACK goes out; the delayed ACK was missed, so ato
 * inflates (doubled, capped by the RTO), or in pingpong mode the socket leaves it and ato
 * deflates to TCP_ATO_MIN.
 */
export function tcp_delack_timer(r: RcvSock): Ack | null {
  r.delackDueMs = null;
  if (!r.ackScheduled) return null;
  if (!r.pingpong) r.ato = Math.min(r.ato * 2, r.rto_ms);
  else {
    r.pingpong = false;
    r.ato = TCP_ATO_MIN_MS;
  }
  return tcp_send_ack(r);
}

// ---- the sender's ACK processing ----

/**
 * tcp_ack(): tcp_ack_update_window() (the receiver sends no data, so snd_wl1 never moves: the
 * window is taken when the ACK advances snd_una, grows, or is zero), max_window and
 * tcp_sync_mss() when the offer is the largest yet, then tcp_clean_rtx_queue(): free fully
 * ACKed skbs (tcp_wmem_free_skb), trim a partially ACKed head (tcp_trim_head).
 * Returns true if the window grew or data was ACKed.
 */
export function tcp_ack(sk: Sock, a: Ack, wire: Wire, syncMss: () => void): void {
  const advances = a.ack > sk.snd_una;
  if (advances || a.win > sk.snd_wnd || a.win === 0) {
    if (sk.snd_wnd !== a.win) {
      sk.snd_wnd = a.win;
      if (a.win > sk.max_window) {
        sk.max_window = a.win;
        syncMss();
      }
    }
  }
  if (!advances) return;
  sk.snd_una = a.ack;
  const q = sk.rtx_queue;
  // the fully ACKed skbs leave the queue head in order, each freed as it leaves
  for (let head = q.at(0); head !== undefined && head.end_seq <= a.ack; head = q.at(0)) {
    q.shift();
    freeAcked(sk, head, wire);
  }
  const skb = q.at(0);
  if (skb !== undefined && a.ack > skb.seq && skb.len > 0) {
    // tcp_tso_acked(): a partially ACKed head is trimmed
    const before = wire.pcount.get(skb) ?? 1;
    tcp_trim_head(sk, skb, a.ack - skb.seq);
    const after = Math.max(1, Math.ceil(skb.len / Math.max(1, sk.mss_cache)));
    sk.packets_out -= Math.max(0, before - after);
    wire.pcount.set(skb, after);
  }
  if (q.length === 0) sk.packets_out = 0;
}

/** tcp_clean_rtx_queue() for one fully ACKed skb: packets_out, then tcp_wmem_free_skb(). */
function freeAcked(sk: Sock, skb: SkBuff, wire: Wire): void {
  sk.packets_out -= wire.pcount.get(skb) ?? 1;
  wire.pcount.delete(skb);
  tcp_wmem_free_skb(sk, skb);
}

/** The segment a transmitted skb arrives as (loopback: the clone; zerocopy frags copied by skb_orphan_frags_rx). */
export function segmentOf(skb: SkBuff, mss_now: number, pcount: number, pageSize: number): Segment {
  // skb_copy_ubufs() (net/core/skbuff.c): a zerocopy skb's frags are copied into fresh pages
  // (one per PAGE_SIZE of payload) after skb_unclone() gave it a head of its own
  const zc = skb.uarg !== null;
  const nr_frags = zc ? Math.ceil(skb.len / pageSize) : skb.nr_frags;
  return {
    seq: skb.seq, end_seq: skb.end_seq, len: skb.len, truesize: skb.truesize,
    seg_len: pcount > 1 ? mss_now : skb.len, nr_frags, end_offset: skb.end_offset, psh: skb.psh, fin: skb.fin,
    privateHead: zc,
  };
}
