// skb head geometry: SKB_DATA_ALIGN, SKB_TRUESIZE, kmalloc size classes and the small-head
// cache. Mirrors include/linux/skbuff.h (SKB_TRUESIZE, SKB_HEAD_ALIGN, SKB_WITH_OVERHEAD) and
// net/core/skbuff.c (kmalloc_reserve, SKB_SMALL_HEAD_*), x86_64 with 4 KiB pages.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const L1_CACHE_BYTES = 64;
/** sizeof(struct sk_buff) on x86_64 (BTF of 6.18.44: 224); aligned to 256 in SKB_TRUESIZE. */
export const SIZEOF_SK_BUFF = 224;
/** sizeof(struct skb_shared_info) with MAX_SKB_FRAGS = 17 (BTF 6.18.44; same layout in 5.17). */
export const SIZEOF_SKB_SHARED_INFO = 320;
/** MAX_SKB_FRAGS: 65536/PAGE_SIZE + 1 in 5.x; CONFIG_MAX_SKB_FRAGS default 17 in 6.3+. */
export const MAX_SKB_FRAGS = 17;
/** NET_SKB_PAD = max(32, L1_CACHE_BYTES); NET_IP_ALIGN is 0 on x86. */
export const NET_SKB_PAD = 64;
export const NET_IP_ALIGN = 0;

/**
 * ALIGN(x, a) for a power-of-two `a`, as the kernel's mask arithmetic; sizes past 2^30 (never
 * an skb's, but the helpers take any number) fall back to division, which gives the same result.
 */
export const alignUp = (x: number, a: number): number => (x >= 0 && x < 0x40000000 ? (x + a - 1) & -a : Math.ceil(x / a) * a);
export const SKB_DATA_ALIGN = (x: number): number => alignUp(x, L1_CACHE_BYTES);
export const PAGE_ALIGN = (x: number): number => alignUp(x, PAGE_SIZE);
/** pages(x) = ceil(x / PAGE_SIZE), as sk_mem_pages() (PAGE_SHIFT arithmetic below 2^30). */
export const sk_mem_pages = (bytes: number): number => (bytes >= 0 && bytes < 0x40000000 ? (bytes + PAGE_SIZE - 1) >> PAGE_SHIFT : Math.ceil(bytes / PAGE_SIZE));

/** SKB_DATA_ALIGN(sizeof(sk_buff)) + SKB_DATA_ALIGN(sizeof(skb_shared_info)): 256 + 320 (a constant, as in C). */
const SKB_TRUESIZE_OVERHEAD = SKB_DATA_ALIGN(SIZEOF_SK_BUFF) + SKB_DATA_ALIGN(SIZEOF_SKB_SHARED_INFO);
/** SKB_TRUESIZE(X) = X + SKB_DATA_ALIGN(sizeof(sk_buff)) + SKB_DATA_ALIGN(sizeof(skb_shared_info)) */
export const SKB_TRUESIZE = (x: number): number => x + SKB_TRUESIZE_OVERHEAD;
/** SKB_HEAD_ALIGN(X) (6.3+) = SKB_DATA_ALIGN(X) + SKB_DATA_ALIGN(sizeof(skb_shared_info)) */
export const SKB_HEAD_ALIGN = (x: number): number => SKB_DATA_ALIGN(x) + SKB_DATA_ALIGN(SIZEOF_SKB_SHARED_INFO);

/** SLUB kmalloc size classes on x86_64 (mm/slab_common.c kmalloc_info); above 8 KiB: page allocator orders. */
const KMALLOC_CLASSES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];

/** kmalloc_size_roundup() / ksize() of a kmalloc'd object of `size` bytes. */
export function kmallocSizeRoundup(size: number): number {
  for (let i = 0; i < KMALLOC_CLASSES.length; i++) if (size <= KMALLOC_CLASSES[i]) return KMALLOC_CLASSES[i];
  let pages = 1;
  while (pages * PAGE_SIZE < size) pages *= 2;
  return pages * PAGE_SIZE;
}

/** True for powers of two (used by the small-head cache sizing rule). */
export const isPowerOf2 = (x: number): boolean => x > 0 && (x & (x - 1)) === 0;

/** roundup_pow_of_two() */
export function roundupPowOfTwo(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}
