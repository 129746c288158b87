// Where a TCP skb head comes from, which fixes skb_end_offset() and so the head truesize H.
// net/core/skbuff.c __alloc_skb() / kmalloc_reserve(): kmalloc size classes up to 6.2; from 6.3
// (bf9f1baa279f) heads up to SKB_SMALL_HEAD_CACHE_SIZE come from skb_small_head_cache, sized
// from max(MAX_TCP_HEADER, GRO_MAX_HEAD + NET_SKB_PAD + NET_IP_ALIGN) since 6.14 (Paolo Abeni,
// "net: allow small head cache usage with large MAX_SKB_FRAGS values").
import {
  isPowerOf2, kmallocSizeRoundup, L1_CACHE_BYTES, NET_IP_ALIGN, NET_SKB_PAD, SIZEOF_SKB_SHARED_INFO,
  SKB_DATA_ALIGN, SKB_HEAD_ALIGN,
} from '../model/skb_geometry.ts';
import type { HeadAllocator, KernelConfig } from './types.ts';

const SHINFO = SKB_DATA_ALIGN(SIZEOF_SKB_SHARED_INFO);

export const kmallocHeads: HeadAllocator = {
  name: 'kmalloc size classes (<= 6.2)',
  endOffset: (size) => kmallocSizeRoundup(SKB_DATA_ALIGN(size) + SHINFO) - SHINFO,
};

/** SKB_SMALL_HEAD_CACHE_SIZE: bumped by L1_CACHE_BYTES when a power of two (recognisable ends). */
export function smallHeadCacheSize(cfg: KernelConfig): number {
  const groMaxHead = cfg.max_header + 128;
  const size = SKB_HEAD_ALIGN(Math.max(cfg.max_tcp_header, groMaxHead + NET_SKB_PAD + NET_IP_ALIGN));
  return isPowerOf2(size) ? size + L1_CACHE_BYTES : size;
}

export const smallHeadCache: HeadAllocator = {
  name: 'skb_small_head_cache (6.14+ sizing)',
  endOffset(size, cfg) {
    const cacheSize = smallHeadCacheSize(cfg);
    const need = SKB_DATA_ALIGN(size) + SHINFO;
    if (need <= cacheSize) return cacheSize - SHINFO;
    return kmallocSizeRoundup(need) - SHINFO;
  },
};
