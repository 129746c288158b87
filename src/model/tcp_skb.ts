// Allocating, queueing, freeing and trimming TCP transmit skbs.
// Mirrors net/ipv4/tcp.c (tcp_stream_alloc_skb, tcp_skb_entail, tcp_remove_empty_skb,
// tcp_downgrade_zcopy_pure), include/net/tcp.h (tcp_wmem_free_skb, formerly sk_wmem_free_skb)
// and net/ipv4/tcp_output.c (tcp_trim_head, tso_fragment/tcp_fragment accounting), 5.15 .. 6.18.
import { SKB_TRUESIZE } from './skb_geometry.ts';
import { fragTrimFront, SkBuff, skb_release_frags } from './skbuff.ts';
import { sk_forced_mem_schedule, sk_mem_charge, sk_mem_reclaim_partial, sk_mem_uncharge, sk_wmem_schedule } from './sk_mem.ts';
import type { Sock } from './sock.ts';
import { net_zcopy_put } from './zerocopy.ts';
import { TRACE, trace } from './trace.ts';

/**
 * tcp_stream_alloc_skb(sk, size = 0, gfp, force_schedule): (5.x: under memory pressure, partial
 * reclaim first) a head of MAX_TCP_HEADER (+ size),
 * truesize per the profile's policy, then forced or ordinary scheduling of that truesize.
 * Returns null when scheduling fails (the caller waits for space).
 */
export function tcp_stream_alloc_skb(sk: Sock, force: boolean, size = 0): SkBuff | null {
  const { cfg, profile } = sk.net;
  // 5.x: tcp_under_memory_pressure() -> sk_mem_reclaim_partial() first (fwd cut to at most a page)
  if (profile.mem.reclaimBeforeAllocUnderPressure && sk.net.proto.memory_pressure) sk_mem_reclaim_partial(sk);
  const end = profile.head.endOffset(size + cfg.max_tcp_header, cfg);
  const skb = new SkBuff(end, profile.zerocopy.allocTruesize(end, size, cfg));
  if (TRACE.on) trace(sk, 'tcp_stream_alloc_skb', () => `skb #${skb.id}: head end_offset ${end}, truesize ${skb.truesize}, ${force ? 'forced' : 'scheduled'}`, skb.id);
  if (force) sk_forced_mem_schedule(sk, skb.truesize);
  else if (!sk_wmem_schedule(sk, skb.truesize)) return null;
  return skb;
}

/** tcp_skb_entail(): queue at the write-queue tail, wq += truesize, fwd -= truesize. */
export function tcp_skb_entail(sk: Sock, skb: SkBuff): void {
  skb.seq = skb.end_seq = sk.write_seq;
  sk.write_queue.push(skb);
  sk.sk_wmem_queued += skb.truesize;
  sk_mem_charge(sk, skb.truesize);
  if (TRACE.on) trace(sk, 'tcp_skb_entail', () => `skb #${skb.id} queued: wq +${skb.truesize}, fwd -${skb.truesize}`, skb.id);
}

/**
 * tcp_wmem_free_skb(): wq -= truesize; uncharge truesize, or for a pure zerocopy skb only the
 * head (the policy's base), since its pinned pages were never charged. Then the skb's data is
 * released: frag page refs and its uarg reference (which may complete the notification).
 */
export function tcp_wmem_free_skb(sk: Sock, skb: SkBuff): void {
  sk.sk_wmem_queued -= skb.truesize;
  const uncharge = skb.pure ? sk.profile.zerocopy.pureFreeUncharge(skb, sk.net.cfg) : skb.truesize;
  sk_mem_uncharge(sk, uncharge, 'tcp_wmem_free_skb', !TRACE.on ? undefined : () => `skb #${skb.id} freed: wq -${skb.truesize}, fwd +${uncharge}${skb.pure ? ' (pure zerocopy: only the head is uncharged)' : ''}`);
  skb_release_data(skb);
}

/** skb_release_data(): drop frag pages and the uarg reference (skb_zcopy_clear(skb, true)). */
export function skb_release_data(skb: SkBuff): void {
  skb_release_frags(skb);
  const uarg = skb.uarg;
  if (uarg !== null) {
    skb.uarg = null;
    skb.pure = false;
    net_zcopy_put(uarg, true);
  }
}

/** tcp_remove_empty_skb(): free the write-queue tail if it holds no sequence space. */
export function tcp_remove_empty_skb(sk: Sock): void {
  const skb = sk.writeQueueTail();
  if (skb !== undefined && skb.seq === skb.end_seq) {
    sk.write_queue.pop();
    tcp_wmem_free_skb(sk, skb);
  }
}

/**
 * tcp_downgrade_zcopy_pure(): a pure skb about to receive copied (or spliced) data must first
 * charge the payload it never charged; the amount is the policy's (data_len in 5.16, truesize
 * minus the head since 479f5547239d). Returns false when scheduling fails.
 */
export function tcp_downgrade_zcopy_pure(sk: Sock, skb: SkBuff): boolean {
  if (!skb.pure) return true;
  const extra = sk.profile.zerocopy.downgradeCharge(skb);
  if (!sk_wmem_schedule(sk, extra)) return false;
  sk_mem_charge(sk, extra);
  skb.pure = false;
  if (TRACE.on) trace(sk, 'tcp_downgrade_zcopy_pure', () => `skb #${skb.id} pure -> mixed: charged ${extra} B of zerocopy payload (${sk.profile.zerocopy.name} rule)`, skb.id);
  return true;
}

/** SKB_TRUESIZE(skb_end_offset(skb)): the head cost of an skb. */
export const headTruesize = (skb: SkBuff): number => SKB_TRUESIZE(skb.end_offset);

/**
 * tcp_trim_head() after a partial ACK of `len` bytes: truesize and wq shrink by the bytes
 * trimmed; fwd is uncharged only for non-pure skbs (P0: always, it has no pure skbs).
 */
export function tcp_trim_head(sk: Sock, skb: SkBuff, len: number): void {
  let left = len;
  while (left > 0 && skb.frags.length > 0) {
    const f = skb.frags[0];
    if (left < f.size) {
      fragTrimFront(f, left); // __pskb_trim_head(): emptied frags are dropped, the next starts later
      break;
    }
    left -= f.size;
    f.page.refs--;
    skb.frags.shift();
  }
  skb.seq += len;
  skb.len -= len;
  skb.data_len -= len;
  skb.truesize -= len;
  sk.sk_wmem_queued -= len;
  if (!skb.pure) sk_mem_uncharge(sk, len, 'tcp_trim_head', !TRACE.on ? undefined : () => `skb #${skb.id}: ${len} B acked: truesize, wq -${len}, fwd +${len}`);
}
