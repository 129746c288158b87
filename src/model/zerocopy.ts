// MSG_ZEROCOPY: the ubuf_info (uarg), its id range and references, the optmem charge of its
// notification skb, completion and error-queue notifications with tail coalescing, and the pin
// loop that appends user pages to an skb.
// Mirrors net/core/skbuff.c (msg_zerocopy_alloc, msg_zerocopy_realloc, msg_zerocopy_complete,
// __msg_zerocopy_callback, skb_zerocopy_notify_extend, msg_zerocopy_put_abort,
// skb_zerocopy_iter_stream), net/core/sock.c (sock_omalloc, sock_ofree) and
// net/core/datagram.c (__zerocopy_sg_from_iter, zerocopy_fill_skb_from_iter), 5.15 .. 6.18.
import { MAX_SKB_FRAGS, PAGE_ALIGN, PAGE_SIZE, SKB_TRUESIZE } from './skb_geometry.ts';
import { fragLastEnd, fragLastPageId, type Page, type SkBuff } from './skbuff.ts';
import { sk_mem_charge } from './sk_mem.ts';
import { lastOf, type Sock } from './sock.ts';
import { TRACE, trace } from './trace.ts';

/** SO_EE_CODE_ZEROCOPY_COPIED */
export const SO_EE_CODE_ZEROCOPY_COPIED = 1;
/** msg_zerocopy_realloc(): "limit to a few TSO" */
export const ZC_BYTELEN_LIMIT = 1 << 19;
/** USHRT_MAX - 1: the id range length at which a uarg stops growing. */
export const ZC_LEN_LIMIT = 0xffff - 1;

/** struct ubuf_info_msgzc, living in the cb[] of its notification skb. */
export class UbufInfo {
  len = 1;
  /** uarg->zerocopy: cleared when any reference is dropped with success = false. */
  zerocopy = true;
  refcnt = 1;
  /** Pages charged to user->locked_vm by mm_account_pinned_pages(). */
  locked_pages = 0;
  constructor(
    readonly sk: Sock,
    readonly id: number,
    public bytelen: number,
    /** truesize of the notification skb (sock_omalloc(sk, 0)) charged to sk_omem_alloc. */
    readonly notif_truesize: number,
  ) {}
}

/** A queued notification skb on sk_error_queue. */
export interface ErrQueueEntry {
  lo: number;
  hi: number;
  code: number;
  truesize: number;
}

/** The N of the reference: truesize of alloc_skb(0) from the profile's head allocator. */
export function notifTruesize(sk: Sock): number {
  return SKB_TRUESIZE(sk.profile.head.endOffset(0, sk.net.cfg));
}

/** msg_zerocopy_alloc(): NULL (-ENOBUFS) when sock_omalloc() refuses. */
function msg_zerocopy_alloc(sk: Sock, size: number): UbufInfo | null {
  // sock_omalloc(): refuse when omem + SKB_TRUESIZE(0) would exceed optmem_max
  if (sk.sk_omem_alloc + SKB_TRUESIZE(0) > sk.net.sysctl['net.core.optmem_max']) {
    if (TRACE.on) trace(sk, 'sock_omalloc', () => `ENOBUFS: optmem ${sk.sk_omem_alloc} + SKB_TRUESIZE(0) ${SKB_TRUESIZE(0)} > net.core.optmem_max ${sk.net.sysctl['net.core.optmem_max']} (read the error queue to release notifications)`);
    return null;
  }
  const uarg = new UbufInfo(sk, sk.sk_zckey >>> 0, size, notifTruesize(sk));
  if (!mm_account_pinned_pages(sk, uarg, size)) return null; // the notification skb is freed again
  sk.sk_omem_alloc += uarg.notif_truesize;
  if (TRACE.on) trace(sk, 'msg_zerocopy_alloc', () => `ubuf_info id ${uarg.id}: notification skb charged to optmem +${uarg.notif_truesize} (now ${sk.sk_omem_alloc})`);
  sk.sk_zckey = (sk.sk_zckey + 1) >>> 0;
  return uarg;
}

/**
 * mm_account_pinned_pages(): charge (size >> PAGE_SHIFT) + 2 pages to the user's locked_vm;
 * false (-> ENOBUFS) past RLIMIT_MEMLOCK. Skipped with CAP_IPC_LOCK, and on 6.x also when the
 * limit is RLIM_INFINITY.
 */
function mm_account_pinned_pages(sk: Sock, uarg: UbufInfo, size: number): boolean {
  const { cfg, user, profile } = sk.net;
  if (cfg.cap_ipc_lock || size === 0) return true;
  if (cfg.rlimit_memlock < 0 && profile.memlockInfinityBypass) return true;
  const pages = Math.floor(size / PAGE_SIZE) + 2;
  const max = cfg.rlimit_memlock < 0 ? Infinity : Math.floor(cfg.rlimit_memlock / PAGE_SIZE);
  if (user.locked_vm_pages + pages > max) {
    if (TRACE.on) trace(sk, 'mm_account_pinned_pages', () => `ENOBUFS: locked_vm ${user.locked_vm_pages} + ${pages} pages > RLIMIT_MEMLOCK ${max} pages (ulimit -l; CAP_IPC_LOCK bypasses it)`);
    return false;
  }
  user.locked_vm_pages += pages;
  uarg.locked_pages += pages;
  return true;
}

/**
 * msg_zerocopy_realloc(): extend the uarg of the write-queue tail when its ids are contiguous
 * with sk_zckey and it is below 65534 ids and 512 KiB; else allocate a new one (TCP).
 */
export function msg_zerocopy_realloc(sk: Sock, size: number, tail: UbufInfo | null): UbufInfo | null {
  if (tail !== null) {
    const bytelen = tail.bytelen + size;
    const full = tail.len === ZC_LEN_LIMIT || bytelen > ZC_BYTELEN_LIMIT;
    if (!full && ((tail.id + tail.len) >>> 0) === sk.sk_zckey) {
      if (!mm_account_pinned_pages(sk, tail, size)) return null;
      tail.len++;
      tail.bytelen = bytelen;
      sk.sk_zckey = (sk.sk_zckey + 1) >>> 0;
      tail.refcnt++; // net_zcopy_get(): the sendmsg call's own reference
      if (TRACE.on) trace(sk, 'msg_zerocopy_realloc', () => `extends ubuf_info id ${tail.id} to ids ${tail.id}..${tail.id + tail.len - 1} (${tail.bytelen} B): no new optmem`);
      return tail;
    }
  }
  return msg_zerocopy_alloc(sk, size);
}

/** msg_zerocopy_complete(): drop one reference; the last one runs the callback. */
export function net_zcopy_put(uarg: UbufInfo, success = true): void {
  uarg.zerocopy = uarg.zerocopy && success;
  uarg.refcnt--;
  if (uarg.refcnt === 0) __msg_zerocopy_callback(uarg);
}

/** msg_zerocopy_put_abort(uarg, true): give the id back, then drop the call's reference. */
export function net_zcopy_put_abort(uarg: UbufInfo): void {
  const sk = uarg.sk;
  sk.sk_zckey = (sk.sk_zckey - 1) >>> 0;
  uarg.len--;
  net_zcopy_put(uarg, true);
}

/**
 * __msg_zerocopy_callback(): queue a notification for ids [id, id+len-1] (or merge it into the
 * error queue's tail when contiguous); a merged or unneeded notification skb is freed at once,
 * returning its optmem charge.
 */
function __msg_zerocopy_callback(uarg: UbufInfo): void {
  const sk = uarg.sk;
  sk.net.user.locked_vm_pages -= uarg.locked_pages; // mm_unaccount_pinned_pages()
  uarg.locked_pages = 0;
  if (uarg.len === 0 || sk.dead) {
    sk.sk_omem_alloc -= uarg.notif_truesize; // consume_skb() -> sock_ofree()
    return;
  }
  const lo = uarg.id;
  const hi = (uarg.id + uarg.len - 1) >>> 0;
  const code = uarg.zerocopy ? 0 : SO_EE_CODE_ZEROCOPY_COPIED;
  const tail = lastOf(sk.error_queue);
  if (tail !== undefined && notify_extend(tail, lo, uarg.len)) {
    sk.sk_omem_alloc -= uarg.notif_truesize;
    if (TRACE.on) trace(sk, '__msg_zerocopy_callback', () => `ids ${lo}..${hi} merged into the queued notification ${tail.lo}..${tail.hi}: optmem -${uarg.notif_truesize}`);
    return;
  }
  sk.error_queue.push({ lo, hi, code, truesize: uarg.notif_truesize });
  if (TRACE.on) trace(sk, '__msg_zerocopy_callback', () => `notification ${lo}..${hi}${code ? ' COPIED' : ''} queued: its ${uarg.notif_truesize} B stay in optmem until read`);
}

/** skb_zerocopy_notify_extend(): the tail's code is kept, not re-evaluated. */
function notify_extend(tail: ErrQueueEntry, lo: number, len: number): boolean {
  const sum = tail.hi - tail.lo + 1 + len;
  if (sum >= 2 ** 32 || lo !== ((tail.hi + 1) >>> 0)) return false;
  tail.hi = (tail.hi + len) >>> 0;
  return true;
}

/** recvmsg(MSG_ERRQUEUE) until EAGAIN: every queued notification, oldest first. */
export function read_error_queue(sk: Sock): ErrQueueEntry[] {
  const out = sk.error_queue.splice(0, sk.error_queue.length);
  for (const e of out) sk.sk_omem_alloc -= e.truesize; // sock_ofree() when the skb is consumed
  return out;
}

/** The user buffer of one sendmsg: iovec segments at virtual addresses, and a cursor. */
export class IovIter {
  private seg = 0;
  private segOff = 0;
  /** iov_iter_count(): bytes not yet consumed, kept as the cursor moves. */
  private left: number;
  constructor(readonly segments: readonly { addr: number; len: number }[]) {
    let n = 0;
    for (const s of segments) n += s.len;
    this.left = n;
  }

  get count(): number {
    return this.left;
  }

  /** Step over exhausted (and empty) segments; false at the end of the buffer. */
  private settle(): boolean {
    const segs = this.segments;
    while (this.seg < segs.length && this.segOff >= segs[this.seg].len) {
      this.seg++;
      this.segOff = 0;
    }
    return this.seg < segs.length;
  }

  /** Bytes left in the current segment (skipping empty ones), and the current address. */
  current(): { addr: number; left: number } | null {
    if (!this.settle()) return null;
    const s = this.segments[this.seg];
    return { addr: s.addr + this.segOff, left: s.len - this.segOff };
  }

  /** The current address (as current().addr, without an object); -1 at the end. */
  currentAddr(): number {
    return this.settle() ? this.segments[this.seg].addr + this.segOff : -1;
  }

  /** Bytes left in the current segment (as current().left); 0 at the end. */
  currentLeft(): number {
    return this.settle() ? this.segments[this.seg].len - this.segOff : 0;
  }

  advance(n: number): void {
    let left = n;
    while (left > 0) {
      if (!this.settle()) throw new Error('iov_iter advanced past its end');
      const step = Math.min(left, this.segments[this.seg].len - this.segOff);
      this.segOff += step;
      this.left -= step;
      left -= step;
    }
  }

  /** Back to the start of the buffer (a caller reusing one iov_iter for the same buffer every call). */
  rewind(): void {
    this.seg = 0;
    this.segOff = 0;
    let n = 0;
    for (const s of this.segments) n += s.len;
    this.left = n;
  }

  /** iov_iter_revert(): step back over the last `bytes` consumed. */
  revert(bytes: number): void {
    let back = bytes;
    while (back > 0) {
      if (this.segOff === 0) {
        if (this.seg === 0) throw new Error('iov_iter reverted past its start');
        this.seg--;
        this.segOff = this.segments[this.seg].len;
        continue;
      }
      const step = Math.min(back, this.segOff);
      this.segOff -= step;
      this.left += step;
      back -= step;
    }
  }
}

/** Page objects of user memory, by virtual page number (page identity matters: §1.4). */
export type UserPages = (pageNumber: number) => Page;

/**
 * skb_zerocopy_iter_stream(): -EEXIST when the skb carries another uarg; otherwise pin batches
 * of user pages into frags (zerocopy_fill_skb_from_iter) and account them
 * (__zerocopy_sg_from_iter): wq += truesize delta always, fwd charged only if the skb is not
 * pure. On -EMSGSIZE with no progress the skb is trimmed back but the charges stay.
 * Returns bytes appended or a negative errno.
 */
export function skb_zerocopy_iter_stream(
  sk: Sock,
  skb: SkBuff,
  from: IovIter,
  length: number,
  uarg: UbufInfo,
  pages: UserPages,
): number {
  if (skb.uarg !== null && skb.uarg !== uarg) return -EEXIST;
  const origLen = skb.len;
  const origTruesize = skb.truesize;
  const err = zerocopy_fill_skb_from_iter(skb, from, length, pages);
  const delta = skb.truesize - origTruesize;
  sk.sk_wmem_queued += delta;
  if (!skb.pure) sk_mem_charge(sk, delta);
  if (TRACE.on) trace(sk, 'skb_zerocopy_iter_stream', () => `skb #${skb.id}: pinned ${skb.len - origLen} B of user pages, truesize +${delta} (page aligned), wq +${delta}, ${skb.pure ? 'not charged (pure zerocopy)' : `fwd -${delta}`}`, skb.id);
  if (err === -EMSGSIZE && skb.len === origLen) {
    from.revert(skb.len - origLen); // streams do not free the skb on error: iov_iter_revert()
    return err;
  }
  if (skb.uarg === null) {
    skb.uarg = uarg; // skb_zcopy_set(): the skb takes its own reference
    uarg.refcnt++;
  }
  skb.shared_frag = true;
  return skb.len - origLen;
}

export const EEXIST = 17;
export const EMSGSIZE = 90;

/** zerocopy_fill_skb_from_iter(): one iov_iter_get_pages2() batch per loop, from one segment. */
function zerocopy_fill_skb_from_iter(skb: SkBuff, from: IovIter, length: number, pages: UserPages): number {
  let left = length;
  while (left > 0) {
    const addr = from.currentAddr();
    if (addr < 0) break;
    const nrFrags = skb.nr_frags;
    if (nrFrags === MAX_SKB_FRAGS) return -EMSGSIZE;
    const maxpages = MAX_SKB_FRAGS - nrFrags;
    const start = addr % PAGE_SIZE;
    const copied = Math.min(left, from.currentLeft(), maxpages * PAGE_SIZE - start);
    from.advance(copied);
    left -= copied;
    skb.data_len += copied;
    skb.len += copied;
    skb.truesize += PAGE_ALIGN(copied + start);
    appendUserPages(skb, Math.floor(addr / PAGE_SIZE), start, copied, pages);
  }
  return 0;
}

/**
 * The batch's pages become frags one page at a time: the first page merges into the last frag
 * when it is the same page and continues it (skb_fill_page_desc after the merge test),
 * otherwise it takes a new frag slot, as does every following page. Consecutive whole-page
 * frags are kept as one run (SkbFrag.n): a new page starting at 0 right after a frag that
 * ends its page extends the run.
 */
function appendUserPages(skb: SkBuff, pn: number, start: number, len: number, pages: UserPages): void {
  const first = Math.min(len, PAGE_SIZE - start);
  const last = lastOf(skb.frags);
  if (last !== undefined && fragLastPageId(last) === pn && fragLastEnd(last) === start) last.size += first;
  else if (last !== undefined && start === 0 && fragLastPageId(last) === pn - 1 && fragLastEnd(last) === PAGE_SIZE && last.page.kind === 'user') {
    last.n++;
    last.size += first;
  } else {
    const page = pages(pn);
    page.refs++;
    skb.frags.push({ page, off: start, size: first, n: 1 });
  }
  const rest = len - first;
  if (rest > 0) {
    // the first page was filled to its end: the rest starts at 0 on the next pages, one frag each
    const f = skb.frags[skb.frags.length - 1];
    f.n += Math.ceil(rest / PAGE_SIZE);
    f.size += rest;
  }
}
