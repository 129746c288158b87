// struct sk_buff as far as accounting needs it: head geometry, frags with page identity,
// truesize, the zerocopy flags and uarg, and the TCP control block's seq/end_seq/eor.
// Mirrors include/linux/skbuff.h (skb_shinfo flags SKBFL_*, skb_zcopy, skb_zcopy_pure,
// skb_can_coalesce) and include/net/tcp.h (TCP_SKB_CB), 5.15 .. 6.18.
import type { UbufInfo } from './zerocopy.ts';

/** A page a frag points at. User pages are identified by their virtual page number. */
export interface Page {
  readonly id: number;
  readonly kind: 'user' | 'page_frag' | 'caller';
  /** page_ref_count() as far as the model needs it (page_frag reuse). */
  refs: number;
}

export interface SkbFrag {
  page: Page;
  off: number;
  size: number;
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
  readonly frags: SkbFrag[] = [];
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

  constructor(end_offset: number, truesize: number) {
    this.end_offset = end_offset;
    this.truesize = truesize;
  }

  get nr_frags(): number {
    return this.frags.length;
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
  const last = skb.frags[skb.frags.length - 1];
  return last !== undefined && samePage(last.page, page) && last.off + last.size === off;
}

/** Page references dropped when an skb's frags are released (skb_release_data). */
export function skb_release_frags(skb: SkBuff): void {
  for (const f of skb.frags) f.page.refs--;
  skb.frags.length = 0;
}
