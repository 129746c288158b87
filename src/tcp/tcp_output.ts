// The sender's transmit side and the receiver's window selection.
// Mirrors net/ipv4/tcp_output.c (6.18 bd3afa6f0; 5.17 where noted): tcp_select_initial_window,
// __tcp_select_window, tcp_select_window, tcp_sync_mss, tcp_tso_autosize/tcp_tso_segs,
// tcp_cwnd_test, tcp_nagle_test/tcp_nagle_check, tcp_snd_wnd_test, tcp_mss_split_point,
// tso_fragment, tcp_grow_skb, tcp_write_xmit, tcp_push_one, __tcp_push_pending_frames,
// tcp_minshall_update, tcp_event_new_data_sent. Written from the kernel source, not copied.
import { MAX_SKB_FRAGS } from '../model/skb_geometry.ts';
import { fragTrimFront, fragTruncate, samePage, type SkBuff, type SkbFrag } from '../model/skbuff.ts';
import { TRACE, trace } from '../model/trace.ts';
import { sk_mem_charge } from '../model/sk_mem.ts';
import { lastOf, type Sock } from '../model/sock.ts';
import { headTruesize, tcp_stream_alloc_skb, tcp_wmem_free_skb } from '../model/tcp_skb.ts';
import type { RcvSock } from './tcp_input.ts';

/** nonagle bits (include/net/tcp.h): TCP_NAGLE_OFF, TCP_NAGLE_CORK, TCP_NAGLE_PUSH. */
export const TCP_NAGLE_OFF = 1;
export const TCP_NAGLE_CORK = 2;
export const TCP_NAGLE_PUSH = 4;
/** TCP_MSS_DEFAULT (536), TCP_MAX_WSCALE (14). */
export const TCP_MSS_DEFAULT = 536;
const TCP_MAX_WSCALE = 14;
/** sysctl_tcp_min_tso_segs default. */
const MIN_TSO_SEGS = 2;

const before = (a: number, b: number): boolean => a < b;
const after = (a: number, b: number): boolean => a > b;

/** tcp_skb_pcount() bookkeeping: segments of a queued skb at its last tso_segs setting (undefined = never set). */
export interface PcountTable {
  get(skb: SkBuff): number | undefined;
  set(skb: SkBuff, segs: number): void;
  delete(skb: SkBuff): void;
}

/** A PcountTable kept where the kernel keeps it, in the skb (skb_shinfo(skb)->gso_segs): no map lookups. */
export class SkbGsoSegs implements PcountTable {
  get(skb: SkBuff): number | undefined {
    const n = skb.gso_segs;
    return n === 0 ? undefined : n;
  }
  set(skb: SkBuff, segs: number): void {
    skb.gso_segs = segs;
  }
  delete(skb: SkBuff): void {
    skb.gso_segs = 0;
  }
}

/** What the transmit engine needs from the path: delivery of a transmitted skb. */
export interface Wire {
  /** tcp_transmit_skb(): a clone of `skb` leaves (loopback delivers it to the receiver). */
  transmit(sk: Sock, skb: SkBuff): void;
  pcount: PcountTable;
}

/** tp->nonagle from the socket options: TCP_NODELAY sets OFF, TCP_CORK sets CORK. */
export function tp_nonagle(sk: Sock): number {
  return (sk.nodelay ? TCP_NAGLE_OFF : 0) | (sk.cork ? TCP_NAGLE_CORK : 0);
}

/** tcp_bound_to_half_wnd(): packets no larger than half the largest window the peer offered. */
export function tcp_bound_to_half_wnd(sk: Sock, pktsize: number): number {
  const cutoff = sk.max_window > TCP_MSS_DEFAULT ? sk.max_window >> 1 : sk.max_window;
  if (cutoff && pktsize > cutoff) return Math.max(cutoff, 68 - 32); // 68 - tcp_header_len (20 + 12)
  return pktsize;
}

/**
 * tcp_sync_mss(): mss_cache = the path MSS (tcp_mtu_to_mss: MTU minus headers, capped by the
 * peer's mss_clamp, minus the timestamp option) bounded by half of max_window.
 */
export function tcp_sync_mss(sk: Sock, mtuMss: number): number {
  sk.mss_cache = tcp_bound_to_half_wnd(sk, mtuMss);
  return sk.mss_cache;
}

/** sk_gso_max_size as sk_setup_caps() leaves it: the device's gso_max_size minus MAX_TCP_HEADER + 1. */
export function sk_gso_max_size(sk: Sock, devGsoMax: number): number {
  return devGsoMax - (sk.net.cfg.max_tcp_header + 1);
}

/**
 * tcp_xmit_size_goal() (net/ipv4/tcp.c): the half-window bound of sk_gso_max_size, in whole
 * MSS, with tp->gso_segs cached and recomputed only when the bound moved by an MSS or more.
 */
export function tcp_xmit_size_goal(sk: Sock, mss_now: number, gsoMax: number): number {
  const newGoal = tcp_bound_to_half_wnd(sk, gsoMax);
  let goal = sk.gso_segs * mss_now;
  if (newGoal < goal || newGoal >= goal + mss_now) {
    sk.gso_segs = Math.min(Math.floor(newGoal / mss_now), 65535);
    goal = sk.gso_segs * mss_now;
  }
  return Math.max(goal, mss_now);
}

/**
 * tcp_tso_segs() -> tcp_tso_autosize(): sk_pacing_rate >> sk_pacing_shift bytes, capped by
 * sk_gso_max_size, in MSS, at least tcp_min_tso_segs. On loopback the pacing rate (from a
 * microsecond srtt) is far above the cap, so the cap decides.
 */
export function tcp_tso_segs(mss_now: number, gsoMax: number): number {
  return Math.max(Math.floor(gsoMax / mss_now), MIN_TSO_SEGS);
}

/** tcp_set_skb_tso_segs(): one segment up to mss, else ceil(len / mss). */
export function tso_segs_of(skb: SkBuff, mss_now: number): number {
  const len = skb.len;
  return len <= mss_now ? 1 : Math.ceil(len / mss_now);
}

/** tcp_wnd_end() */
export const tcp_wnd_end = (sk: Sock): number => sk.snd_una + sk.snd_wnd;

/** tcp_cwnd_test(): segments cwnd still allows, at most half the cwnd at once. */
export function tcp_cwnd_test(sk: Sock, skb: SkBuff): number {
  // 5.x: "don't be strict about the congestion window for the final FIN" (pcount already 1)
  if (skb.fin && skb.gso_segs === 1 && sk.profile.output.finIgnoresCwnd) return 1;
  const inFlight = sk.packets_out; // tcp_packets_in_flight() with no loss and no retransmits
  const cwnd = sk.snd_cwnd;
  if (inFlight >= cwnd) return 0;
  return Math.min(Math.max(cwnd >> 1, 1), cwnd - inFlight);
}

/** tcp_minshall_check(): a small segment is still unacknowledged. */
function tcp_minshall_check(sk: Sock): boolean {
  return after(sk.snd_sml, sk.snd_una) && !after(sk.snd_sml, sk.snd_nxt);
}

/** tcp_nagle_check(): true = hold a partial segment back. */
export function tcp_nagle_check(partial: boolean, sk: Sock, nonagle: number): boolean {
  return partial && ((nonagle & TCP_NAGLE_CORK) !== 0 || (nonagle === 0 && sk.packets_out > 0 && tcp_minshall_check(sk)));
}

/** tcp_nagle_test(): may this (single-segment) skb go now? */
export function tcp_nagle_test(sk: Sock, skb: SkBuff, mss_now: number, nonagle: number): boolean {
  if (nonagle & TCP_NAGLE_PUSH) return true;
  if (skb.fin) return true;
  return !tcp_nagle_check(skb.len < mss_now, sk, nonagle);
}

/** tcp_snd_wnd_test(): does the first segment of skb fit in the offered window? */
export function tcp_snd_wnd_test(sk: Sock, skb: SkBuff, mss_now: number): boolean {
  const end = skb.len > mss_now ? skb.seq + mss_now : skb.end_seq;
  return !after(end, tcp_wnd_end(sk));
}

/** tcp_mss_split_point(): how much of a multi-segment skb goes now. */
function tcp_mss_split_point(sk: Sock, skb: SkBuff, mss_now: number, max_segs: number, nonagle: number): number {
  const window = tcp_wnd_end(sk) - skb.seq;
  const maxLen = mss_now * max_segs;
  const isTail = sk.writeQueueTail() === skb;
  if (maxLen <= window && !isTail) return maxLen;
  const needed = Math.min(skb.len, window);
  if (maxLen <= needed) return maxLen;
  const partial = needed % mss_now;
  if (tcp_nagle_check(partial !== 0, sk, nonagle)) return needed - partial;
  return needed;
}

/**
 * tso_fragment(): cut an unsent paged skb at `len`; with `into` 'rtx', tcp_fragment(
 * TCP_FRAG_IN_RTX_QUEUE) cutting a sent one for its retransmission (the same accounting for a
 * paged skb; the new half follows it in the retransmit queue). The new skb gets a forced-scheduled head
 * (tcp_stream_alloc_skb(sk, gfp, true)), wq += its truesize and fwd is charged for it; the
 * payload's truesize moves with the bytes (skb_split). PSH/FIN and EOR move to the second
 * half. The pure flag is copied per profile (skb_split copies SKBFL_PURE_ZEROCOPY since
 * 9b65b17db723's follow-up), and a zerocopy uarg is shared with a new reference (skb_zerocopy_clone).
 */
export function tso_fragment(sk: Sock, skb: SkBuff, len: number, wire: Wire, mss_now: number, into: 'write' | 'rtx' = 'write'): SkBuff {
  const nlen = skb.len - len;
  const buff = tcp_stream_alloc_skb(sk, true)!;
  sk.sk_wmem_queued += buff.truesize;
  sk_mem_charge(sk, buff.truesize);
  buff.truesize += nlen;
  skb.truesize -= nlen;
  buff.seq = skb.seq + len;
  buff.end_seq = skb.end_seq;
  skb.end_seq = buff.seq;
  buff.fin = skb.fin;
  buff.psh = skb.psh;
  skb.fin = false;
  skb.psh = false;
  buff.eor = skb.eor; // tcp_skb_fragment_eor()
  skb.eor = false;
  skb_split(skb, buff, len);
  if (skb.uarg !== null) {
    buff.uarg = skb.uarg; // skb_zerocopy_clone(): the new half holds its own reference
    skb.uarg.refcnt++;
    if (sk.profile.zerocopy.splitCopiesPure) buff.pure = skb.pure;
  }
  buff.shared_frag = skb.shared_frag;
  wire.pcount.set(skb, tso_segs_of(skb, mss_now));
  wire.pcount.set(buff, tso_segs_of(buff, mss_now));
  // tcp_insert_write_queue_after(): buff right after skb (skb is usually the send head)
  if (into === 'rtx') insertAfterInRtx(sk, skb, buff);
  else {
    const q = sk.write_queue;
    const at = q[0] === skb ? 1 : q.indexOf(skb) + 1;
    if (at === q.length) q.push(buff);
    else q.splice(at, 0, buff);
  }
  if (TRACE.on) trace(sk, 'tso_fragment', () => `skb #${skb.id} split at ${len} B: new skb #${buff.id} takes ${nlen} B and their truesize (wq +${buff.truesize - nlen} for its head${buff.pure ? ', stays pure' : ''})`, buff.id);
  return buff;
}

/** The retransmit queue's insertion of `buff` right after `skb`. */
function insertAfterInRtx(sk: Sock, skb: SkBuff, buff: SkBuff): void {
  const q = sk.rtx_queue;
  for (let i = 0; i < q.length; i++) {
    if (q.at(i) === skb) {
      q.insertAt(i + 1, buff);
      return;
    }
  }
  throw new Error('tcp_fragment: the skb is not in the retransmit queue');
}

/**
 * skb_split() of a headless (all-paged) skb: frags after `len` move to `buff`, a frag
 * straddling `len` is shared (a run of frags is cut between two of its frags, or inside one).
 */
function skb_split(skb: SkBuff, buff: SkBuff, len: number): void {
  let pos = 0;
  let keep = 0;
  const frags = skb.frags;
  for (let i = 0; i < frags.length; i++) {
    const f = frags[i];
    const start = pos;
    pos += f.size;
    if (pos <= len) keep++;
    else if (start >= len) buff.frags.push(f);
    else {
      // skb_frag_ref(): both halves hold a page cut inside it; a run cut between two of its
      // frags leaves the frags before the cut to skb, those after to buff
      const head = len - start;
      const tail: SkbFrag = { page: f.page, off: f.off, size: f.size, n: f.n };
      tail.page.refs++;
      fragTrimFront(tail, head);
      fragTruncate(f, head);
      keep++;
      buff.frags.push(tail);
    }
  }
  while (frags.length > keep) frags.pop(); // not `length = keep`: a slow runtime call in V8
  buff.len = skb.len - len;
  buff.data_len = buff.len;
  skb.len = len;
  skb.data_len = len;
}

/**
 * tcp_grow_skb() (6.10+): the send head takes up to `amount` bytes from the next skb by
 * skb_shift(), which refuses zerocopy skbs (skb_zcopy) and skbs that would overflow
 * MAX_SKB_FRAGS; an emptied next skb is freed by tcp_eat_one_skb() -> tcp_wmem_free_skb().
 * tcp_skb_can_collapse(): not past an EOR mark, and both or neither pure zerocopy.
 */
export function tcp_grow_skb(sk: Sock, skb: SkBuff, amount: number, wire: Wire): void {
  const q = sk.write_queue;
  const i = q[0] === skb ? 0 : q.indexOf(skb); // the send head, from tcp_write_xmit
  const next = q[i + 1];
  if (next === undefined) return;
  if (skb.eor || skb.pure !== next.pure) return;
  const nlen = Math.min(amount, next.len);
  if (nlen === 0 || !skb_shift(skb, next, nlen)) return;
  if (TRACE.on) trace(sk, 'tcp_grow_skb', () => `skb #${skb.id} takes ${nlen} B from skb #${next.id} (skb_shift: truesize moves, wq unchanged)`, skb.id);
  skb.end_seq += nlen;
  next.seq += nlen;
  if (next.len === 0) {
    skb.end_seq = next.end_seq;
    skb.psh ||= next.psh;
    skb.fin ||= next.fin;
    skb.eor = next.eor;
    q.splice(i + 1, 1);
    wire.pcount.delete(next);
    tcp_wmem_free_skb(sk, next);
  }
}

/** skb_shift(): move `shiftlen` paged bytes from skb to tgt; 0 (refused) or shiftlen. */
export function skb_shift(tgt: SkBuff, skb: SkBuff, shiftlen: number): boolean {
  if (skb.len !== skb.data_len) return false; // skb_headlen(skb)
  if (tgt.uarg !== null || skb.uarg !== null) return false; // skb_zcopy()
  // past this point every frag is a single one (SkbFrag.n = 1): runs exist only on zerocopy skbs
  // count the frag slots needed, merging the first into tgt's last frag when contiguous
  const last = lastOf(tgt.frags);
  const first = skb.frags[0];
  const merge = last !== undefined && first !== undefined && samePage(last.page, first.page) && last.off + last.size === first.off;
  let todo = shiftlen;
  let from = 0;
  let to = tgt.frags.length;
  if (merge) {
    if (todo < first.size) {
      last.size += todo;
      first.off += todo;
      first.size -= todo;
      moveBytes(tgt, skb, shiftlen);
      return true;
    }
    todo -= first.size;
    from = 1;
  }
  if (shiftlen === skb.len && skb.frags.length - from > MAX_SKB_FRAGS - to) return false;
  let need = 0;
  let t = todo;
  for (let k = from; t > 0 && k < skb.frags.length; k++) {
    need++;
    t -= skb.frags[k].size;
  }
  if (to + need > MAX_SKB_FRAGS) return false;
  // commit
  if (merge) {
    last.size += first.size;
    first.page.refs--;
  }
  while (todo > 0 && from < skb.frags.length) {
    const f = skb.frags[from];
    if (todo >= f.size) {
      tgt.frags.push(f);
      todo -= f.size;
      from++;
    } else {
      tgt.frags.push({ page: f.page, off: f.off, size: todo, n: 1 });
      f.page.refs++;
      f.off += todo;
      f.size -= todo;
      todo = 0;
    }
    to++;
  }
  skb.frags.splice(0, from);
  moveBytes(tgt, skb, shiftlen);
  return true;
}

/** skb_len_add() on both: len, data_len and truesize move together. */
function moveBytes(tgt: SkBuff, skb: SkBuff, n: number): void {
  skb.len -= n;
  skb.data_len -= n;
  skb.truesize -= n;
  tgt.len += n;
  tgt.data_len += n;
  tgt.truesize += n;
}

/**
 * tcp_write_xmit(): send from the send head while cwnd and the offered window allow, after
 * letting the head grow (6.10+), the Nagle test for single-segment skbs, and tso_fragment()
 * where the window, cwnd or Nagle cut an skb. tcp_tso_should_defer() never defers on loopback
 * (the rtx queue head's ACK is due within srtt/2: send_now), TSQ never throttles (the clone
 * is orphaned by loopback_xmit), MTU probing is off (tcp_mtu_probing = 0).
 */
export function tcp_write_xmit(sk: Sock, mss_now: number, nonagle: number, push_one: boolean, wire: Wire, gsoMax: number): void {
  const max_segs = tcp_tso_segs(mss_now, gsoMax);
  while (sk.write_queue.length > 0) {
    const skb = sk.write_queue[0];
    let cwnd_quota = tcp_cwnd_test(sk, skb);
    if (cwnd_quota === 0) break;
    cwnd_quota = Math.min(cwnd_quota, max_segs);
    const missing = cwnd_quota * mss_now - skb.len;
    if (missing > 0 && sk.profile.growSkb) tcp_grow_skb(sk, skb, missing, wire);
    const tso_segs = tso_segs_of(skb, mss_now);
    wire.pcount.set(skb, tso_segs);
    if (!tcp_snd_wnd_test(sk, skb, mss_now)) break;
    const isLast = sk.write_queue.length === 1;
    if (tso_segs === 1 && !tcp_nagle_test(sk, skb, mss_now, isLast ? nonagle : TCP_NAGLE_PUSH)) break;
    let limit = mss_now;
    if (tso_segs > 1) limit = tcp_mss_split_point(sk, skb, mss_now, cwnd_quota, nonagle);
    if (skb.len > limit) tso_fragment(sk, skb, limit, wire, mss_now);
    if (skb.end_seq === skb.seq) break; // an empty skb: a writer sleeps in sendmsg
    tcp_event_new_data_sent(sk, skb, wire, mss_now);
    if (push_one) break;
  }
}

/** tcp_event_new_data_sent() + tcp_minshall_update(), then the clone leaves. */
function tcp_event_new_data_sent(sk: Sock, skb: SkBuff, wire: Wire, mss_now: number): void {
  sk.write_queue.shift();
  sk.rtx_queue.push(skb);
  sk.snd_nxt = skb.end_seq;
  const pc = wire.pcount.get(skb) ?? 1;
  sk.packets_out += pc;
  if (skb.len < pc * mss_now) sk.snd_sml = skb.end_seq;
  wire.transmit(sk, skb);
}

/** tcp_mark_push(): PSH on skb, pushed_seq = write_seq. forced_push(): write_seq beyond pushed_seq + max_window/2. */
export function tcp_mark_push(sk: Sock, skb: SkBuff): void {
  skb.psh = true;
  sk.pushed_seq = sk.write_seq;
}
export function forced_push(sk: Sock): boolean {
  return after(sk.write_seq, sk.pushed_seq + (sk.max_window >> 1));
}

void before;
void headTruesize;

// ---- the receiver's window (tcp_output.c, include/net/tcp.h) ----

/** tcp_win_from_space(): the window a receive buffer of `space` bytes offers, by the kernel version's rule. */
export const tcp_win_from_space = (r: RcvSock, space: number): number => r.policy.winFromSpace(r.scaling_ratio, space);

/**
 * tcp_select_initial_window(): the SYN-ACK's window, the window clamp and the receive window
 * scale. `space` is tcp_full_space() of the listener, `clamp` its locked clamp (0 = none),
 * `initialWindowMax` the version's cap on the first offer (5.x: U16_MAX; 6.x: none).
 */
export function tcp_select_initial_window(
  space: number, mss: number, clamp: number, rmem2: number, rmemMax: number, initialWindowMax = Infinity,
): { rcv_wnd: number; window_clamp: number; rcv_wscale: number } {
  let window_clamp = clamp === 0 ? 65535 << TCP_MAX_WSCALE : clamp;
  space = Math.min(window_clamp, Math.max(space, 0));
  if (space > mss) space = Math.floor(space / mss) * mss;
  const rcv_wnd = Math.min(space, initialWindowMax); // tcp_workaround_signed_windows = 0
  let s = Math.max(space, rmem2, rmemMax);
  s = Math.min(s, window_clamp);
  const rcv_wscale = Math.min(Math.max(Math.floor(Math.log2(s)) - 15, 0), TCP_MAX_WSCALE);
  window_clamp = Math.min(65535 * (1 << rcv_wscale), window_clamp);
  return { rcv_wnd, window_clamp, rcv_wscale };
}

/** tcp_space() / tcp_full_space() of the receiver. */
export const tcp_space = (r: RcvSock): number => tcp_win_from_space(r, r.rcvbuf - r.rmem_alloc);
export const tcp_full_space = (r: RcvSock): number => tcp_win_from_space(r, r.rcvbuf);

/** __tcp_select_window(): the raw window (tcp_shrink_window = 0). */
export function __tcp_select_window(r: RcvSock): number {
  let mss = r.rcv_mss;
  let free_space = tcp_space(r);
  const allowed_space = tcp_full_space(r);
  const full_space = Math.min(r.window_clamp, allowed_space);
  if (mss > full_space) {
    mss = full_space;
    if (mss <= 0) return 0;
  }
  if (free_space < full_space >> 1) {
    r.quick = 0;
    const unit = 1 << r.rcv_wscale; // rcv_wscale <= TCP_MAX_WSCALE (14): a shift, not Math.pow
    free_space = Math.floor(free_space / unit) * unit;
    if (free_space < allowed_space >> 4 || free_space < mss) return 0;
  }
  if (free_space > r.rcv_ssthresh) free_space = r.rcv_ssthresh;
  if (r.rcv_wscale) {
    const unit = 1 << r.rcv_wscale; // rcv_wscale <= TCP_MAX_WSCALE (14): a shift, not Math.pow
    return Math.ceil(free_space / unit) * unit;
  }
  let window = r.rcv_wnd;
  if (window <= free_space - mss || window > free_space) window = Math.floor(free_space / mss) * mss;
  else if (mss === full_space && free_space > window + (full_space >> 1)) window = free_space;
  return window;
}

/** tcp_receive_window(): what is left of the last offered window. */
export const tcp_receive_window = (r: RcvSock): number => Math.max(0, r.rcv_wup + r.rcv_wnd - r.rcv_nxt);

/** tcp_select_window(): never shrink the offered window; returns the window as the peer decodes it. */
export function tcp_select_window(r: RcvSock): number {
  const cur = tcp_receive_window(r);
  let win = __tcp_select_window(r);
  const unit = 1 << r.rcv_wscale; // rcv_wscale <= TCP_MAX_WSCALE (14): a shift, not Math.pow
  if (win < cur) win = Math.ceil(cur / unit) * unit;
  r.rcv_wnd = win;
  r.rcv_wup = r.rcv_nxt;
  win = Math.min(win, 65535 * unit);
  return Math.floor(win / unit) * unit; // header field << snd_wscale on the sender
}
