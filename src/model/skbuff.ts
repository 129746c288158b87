// struct sk_buff as far as accounting needs it: head geometry, frags with page identity,
// truesize, the zerocopy flags and uarg, and the TCP control block's seq/end_seq/eor.
// Mirrors include/linux/skbuff.h (skb_shinfo flags SKBFL_*, skb_zcopy, skb_zcopy_pure,
// skb_can_coalesce) and include/net/tcp.h (TCP_SKB_CB), 5.15 .. 6.18.
import { PAGE_SIZE } from './skb_geometry.ts';
import { lastOf } from './sock.ts';
import type { UbufInfo } from './zerocopy.ts';

/** A page a frag points at. User pages are identified by their virtual page number. */
export interface Page {
  readonly id: number;
  readonly kind: 'user' | 'page_frag' | 'caller';
  /** page_ref_count() as far as the model needs it (page_frag reuse). */
  refs: number;
}

/**
 * Entries of skb_shinfo(skb)->frags[]. An entry is a run of `n` frags on consecutive user pages
 * page.id .. page.id + n - 1: the first from `off` to the page end, the middle ones whole pages,
 * the last from 0 to its end; `size` counts the bytes of all n. With n = 1 it is one ordinary
 * frag (off, size) on any kind of page. Zerocopy pins whole iov ranges, so a 64 KiB send is one
 * entry instead of 16; the frags it stands for (nr_frags, MAX_SKB_FRAGS, the page and offset
 * where each starts and ends) are exactly those of the kernel, frag by frag. Only user pages
 * form runs, and only on zerocopy skbs (skb_shift and skb_can_coalesce refuse those).
 */
export interface SkbFrag {
  /** The page of the first frag. */
  page: Page;
  /** Offset of the first frag in its page. */
  off: number;
  /** Bytes of all the run's frags. */
  size: number;
  /** Frags in the run (1 for an ordinary frag). */
  n: number;
}

/** Bytes of a run's first frag. */
export const fragFirstBytes = (f: SkbFrag): number => (f.n === 1 ? f.size : PAGE_SIZE - f.off);

/** Page number (id) of a run's last frag. */
export const fragLastPageId = (f: SkbFrag): number => f.page.id + f.n - 1;

/** End offset, in its page, of a run's last frag. */
export const fragLastEnd = (f: SkbFrag): number => (f.n === 1 ? f.off + f.size : f.size - (PAGE_SIZE - f.off) - (f.n - 2) * PAGE_SIZE);

/**
 * The run without its first `len` bytes (0 < len < size), as tcp_trim_head() and skb_split()
 * leave it: frags emptied on the way are dropped (their page reference with them), the new
 * first frag starts `len` bytes in.
 */
export function fragTrimFront(f: SkbFrag, len: number): void {
  const first = fragFirstBytes(f);
  if (len < first) {
    f.off += len;
    f.size -= len;
    return;
  }
  const rest = len - first;
  const k = 1 + Math.floor(rest / PAGE_SIZE); // frags emptied
  f.page.refs--;
  const page = userPage(f.page.id + k);
  page.refs++;
  f.page = page;
  f.off = rest - (k - 1) * PAGE_SIZE;
  f.n -= k;
  f.size -= len;
}

/** The run cut to its first `len` bytes (0 < len < size): the frags past the cut are dropped. */
export function fragTruncate(f: SkbFrag, len: number): void {
  const first = fragFirstBytes(f);
  f.n = len <= first ? 1 : 1 + Math.ceil((len - first) / PAGE_SIZE);
  f.size = len;
}

let nextSkbId = 1;
export function resetSkbIds(): void {
  nextSkbId = 1;
}

export class SkBuff {
  /** Model-only identity, for accounting trails. */
  readonly id = nextSkbId++;
  seq = 0;
  end_seq = 0;
  len = 0;
  data_len = 0;
  truesize = 0;
  /** skb_end_offset(): usable head bytes before skb_shared_info. */
  readonly end_offset: number;
  /**
   * `new Array()` rather than `[]`: V8 gives it room for 4 elements at once, where the first
   * push to a `[]` allocates 17; and popping back to empty then shrinks no backing store
   * (skb_release_frags). A zerocopy skb holds one to three runs, a copy-path one grows once.
   */
  readonly frags: SkbFrag[] = new Array<SkbFrag>();
  /** SKBFL_PURE_ZEROCOPY (5.16+): payload is only pinned user pages, not charged to fwd. */
  pure = false;
  /** SKBFL_ZEROCOPY_FRAG / skb_zcopy(): a uarg is attached. */
  uarg: UbufInfo | null = null;
  /** SKBFL_SHARED_FRAG: frags may be shared with user space or the page cache. */
  shared_frag = false;
  /** TCP_SKB_CB(skb)->eor: nothing may be appended (MSG_EOR). */
  eor = false;
  /** TCPHDR_FIN: carries the FIN (its sequence byte is end_seq - 1). */
  fin = false;
  /** TCPHDR_PSH marked (tcp_mark_push); no accounting effect, kept for traces. */
  psh = false;
  /** tcp_skb_pcount(): skb_shinfo(skb)->gso_segs as the transmit side last set it; 0 = not set. */
  gso_segs = 0;
  /**
   * The sending path's transmit state of this skb (TCP_SKB_CB(skb)->sacked bits, skb_mstamp_ns,
   * clones still in the host queue), opaque to the model; null until sent and once freed.
   */
  tx_state: unknown = null;

  constructor(end_offset: number, truesize: number) {
    this.end_offset = end_offset;
    this.truesize = truesize;
  }

  /** skb_shinfo(skb)->nr_frags: the frags of every run. */
  get nr_frags(): number {
    const frags = this.frags;
    let n = 0;
    for (let i = 0; i < frags.length; i++) n += frags[i].n;
    return n;
  }
}

/**
 * The same struct page: user and file pages are identified by their page number (ids of the
 * three kinds never collide), so a page needs no registry to keep its identity.
 */
export const samePage = (a: Page, b: Page): boolean => a.id === b.id;

/** The Page of user (or file) memory at this virtual page number. */
export function userPage(pageNumber: number): Page {
  return { id: pageNumber, kind: 'user', refs: 0 };
}

/**
 * skb_can_coalesce(): the next bytes at (page, off) extend the last frag. Always false for a
 * zerocopy skb (skb_zcopy), so copied data never merges into a frag that holds user pages.
 */
export function skb_can_coalesce(skb: SkBuff, page: Page, off: number): boolean {
  if (skb.uarg !== null) return false;
  const last = lastOf(skb.frags);
  return last !== undefined && fragLastPageId(last) === page.id && fragLastEnd(last) === off;
}

/** Page references dropped when an skb's frags are released (skb_release_data). */
export function skb_release_frags(skb: SkBuff): void {
  // pop rather than `length = 0`, which V8 runs as a (slow) runtime call
  const frags = skb.frags;
  while (frags.length > 0) frags.pop()!.page.refs--;
}
