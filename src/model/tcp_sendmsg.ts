// tcp_sendmsg_locked(): the send loop and its accounting, copy path and MSG_ZEROCOPY path.
// Mirrors net/ipv4/tcp.c tcp_sendmsg_locked(), tcp_send_mss(), tcp_xmit_size_goal(),
// tcp_wmem_schedule() (via the profile), and net/core/sock.c sk_page_frag_refill(),
// include/net/sock.h skb_copy_to_page_nocache(), 5.15 .. 6.18.
import { PAGE_SIZE } from './skb_geometry.ts';
import { TRACE, trace } from './trace.ts';
import { skb_can_coalesce, userPage, type SkBuff } from './skbuff.ts';
import { sk_mem_charge } from './sk_mem.ts';
import type { Sock } from './sock.ts';
import { tcp_downgrade_zcopy_pure, tcp_remove_empty_skb, tcp_skb_entail, tcp_stream_alloc_skb } from './tcp_skb.ts';
import {
  EEXIST, EMSGSIZE, IovIter, msg_zerocopy_realloc, net_zcopy_put, net_zcopy_put_abort, skb_zerocopy_iter_stream, type UbufInfo,
} from './zerocopy.ts';

export const EAGAIN = 11;
export const ENOBUFS = 105;
export const EPIPE = 32;

/** SKB_FRAG_PAGE_ORDER: the copy path's page_frag is a 32 KiB compound page. */
const SKB_FRAG_PAGE_SIZE = 32768;

export interface SendMsg {
  iov: IovIter;
  zerocopy: boolean;
  /**
   * MSG_SPLICE_PAGES (6.5+, sendfile/splice) or do_tcp_sendpages() (5.x): the iov addresses are
   * page-cache pages appended by reference, charged by bytes.
   */
  splice?: boolean;
  more: boolean;
  eor: boolean;
  dontwait: boolean;
  /**
   * MSG_SENDPAGE_NOTLAST (5.x do_tcp_sendpages()): not the last page of the splice pipe's batch,
   * so the call ends without tcp_push().
   */
  notLast?: boolean;
}

/** What the transmit side (the path and the peer) does for the send loop. */
export interface SendHooks {
  /** tcp_send_mss(): this call's size_goal (bytes one skb may hold). */
  sizeGoal(sk: Sock): number;
  /** The loop filled `skb` to size_goal: forced_push() -> __tcp_push_pending_frames(), or tcp_push_one() if it is the send head. */
  skbFull(sk: Sock, skb: SkBuff): void;
  /**
   * tcp_push() at the end of the call (tp->nonagle; MSG_MORE corks) and before waiting for
   * space (`naglePush`: wait_for_space passes TCP_NAGLE_PUSH and drops MSG_MORE).
   */
  push(sk: Sock, more: boolean, naglePush?: boolean): void;
  /** sk_stream_wait_memory() for a blocking call: true if space could be freed. */
  waitForSpace(sk: Sock): boolean;
  /**
   * sk_flush_backlog(): process the ACKs waiting in the socket backlog while the call still
   * holds the lock; true if there were any (the call then restarts with a new size_goal).
   */
  flushBacklog(sk: Sock): boolean;
}

/** Returns bytes accepted, or a negative errno. */
export function tcp_sendmsg_locked(sk: Sock, msg: SendMsg, hooks: SendHooks): number {
  const size = msg.iov.count;
  let uarg: UbufInfo | null = null;
  let zc = false;
  if (msg.zerocopy && size > 0 && sk.zerocopy) {
    const tail = sk.writeQueueTail();
    uarg = msg_zerocopy_realloc(sk, size, tail?.uarg ?? null);
    if (uarg === null) return -ENOBUFS;
    if (sk.route_sg) zc = true;
    else uarg.zerocopy = false;
  }
  if (sk.state !== 'ESTABLISHED') {
    if (uarg !== null) net_zcopy_put_abort(uarg);
    return -EPIPE;
  }
  let sizeGoal = hooks.sizeGoal(sk);
  let copied = 0;
  // new skbs since the backlog was last flushed (every 16, sk_flush_backlog(), then restart:)
  let processBacklog = 0;
  // a chunk found the tail full (frag slots, another uarg): goto new_segment
  let newSegmentDue = false;
  let err = 0;
  // Every loop is bounded (TigerBeetle style): a blocking call that keeps being woken without
  // making progress is a model bug, reported, never a hang.
  let idle = 0;
  while (msg.iov.count > 0) {
    if (++idle > MAX_ITERATIONS_WITHOUT_PROGRESS) {
      throw new Error(`tcp_sendmsg_locked: ${MAX_ITERATIONS_WITHOUT_PROGRESS} iterations without progress (wq ${sk.sk_wmem_queued}, sndbuf ${sk.sk_sndbuf}, fwd ${sk.sk_forward_alloc})`);
    }
    const tail = sk.writeQueueTail();
    let copy = tail !== undefined ? sizeGoal - tail.len : 0;
    let skb: SkBuff | null = tail ?? null;
    if (skb === null || copy <= 0 || skb.eor || newSegmentDue) {
      newSegmentDue = false;
      const next = newSegment(sk, hooks, processBacklog >= 16);
      if (processBacklog >= 16) processBacklog = 0;
      if (next === RESTART) {
        sizeGoal = hooks.sizeGoal(sk); // restart: tcp_send_mss()
        continue;
      }
      if (next === null) {
        err = waitForSpace(sk, msg, hooks, copied);
        if (err !== 0) break;
        sizeGoal = hooks.sizeGoal(sk); // after sk_stream_wait_memory(): tcp_send_mss() again
        continue;
      }
      processBacklog++;
      skb = next;
      copy = sizeGoal;
    }
    copy = Math.min(copy, msg.iov.count);
    const n = zc
      ? zerocopyChunk(sk, skb, msg, copy, uarg!)
      : msg.splice
        ? spliceChunk(sk, skb, msg, copy)
        : copyChunk(sk, skb, msg, copy);
    if (n === NEW_SEGMENT) {
      skb.psh = true; // tcp_mark_push()
      newSegmentDue = true;
      continue;
    }
    if (n === WAIT) {
      err = waitForSpace(sk, msg, hooks, copied);
      if (err !== 0) break;
      sizeGoal = hooks.sizeGoal(sk);
      continue;
    }
    sk.write_seq += n;
    skb.end_seq += n;
    copied += n;
    idle = 0;
    if (msg.iov.count === 0) {
      if (msg.eor) skb.eor = true;
      break;
    }
    if (skb.len >= sizeGoal) hooks.skbFull(sk, skb);
  }
  if (err !== 0) {
    tcp_remove_empty_skb(sk); // do_error
    if (copied === 0) {
      if (uarg !== null) net_zcopy_put_abort(uarg);
      return -err;
    }
  }
  if (copied > 0 && msg.notLast !== true) hooks.push(sk, msg.more);
  if (uarg !== null) net_zcopy_put(uarg); // out_nopush: the call's own reference
  return copied;
}

const MAX_ITERATIONS_WITHOUT_PROGRESS = 100_000;
const NEW_SEGMENT = -1;
const WAIT = -2;
/** newSegment(): the backlog was flushed, go back to restart: */
const RESTART = 0;

/**
 * new_segment: only here is the sndbuf checked (sk_stream_memory_free); every 16 new skbs the
 * backlog is flushed first (`flushDue`), and if it held ACKs the call restarts (RESTART).
 */
function newSegment(sk: Sock, hooks: SendHooks, flushDue: boolean): SkBuff | null | typeof RESTART {
  if (!sk.streamMemoryFree()) {
    if (TRACE.on) trace(sk, 'sk_stream_memory_free', () => `no new skb: wmem_queued ${sk.sk_wmem_queued} >= sndbuf ${sk.sk_sndbuf}${sk.sk_wmem_queued < sk.sk_sndbuf ? ' (or notsent >= tcp_notsent_lowat)' : ''}`);
    return null;
  }
  if (flushDue && hooks.flushBacklog(sk)) return RESTART;
  const skb = tcp_stream_alloc_skb(sk, sk.queuesEmpty());
  if (skb === null) return null;
  tcp_skb_entail(sk, skb);
  return skb;
}

/** wait_for_space: EAGAIN for a non-blocking call; a blocking one waits if anything can free space. */
function waitForSpace(sk: Sock, msg: SendMsg, hooks: SendHooks, copied: number): number {
  sk.nospace = true; // set_bit(SOCK_NOSPACE)
  if (sk.profile.removeEmptySkbOnWait) tcp_remove_empty_skb(sk);
  // tcp_push(sk, flags & ~MSG_MORE, mss_now, TCP_NAGLE_PUSH, size_goal): tcp_sendmsg_locked() only
  // after copying, 5.x do_tcp_sendpages() always (pages held back by MSG_SENDPAGE_NOTLAST go out)
  if (copied > 0 || (msg.splice === true && sk.profile.spliceViaSendpage)) hooks.push(sk, false, true);
  if (msg.dontwait) return EAGAIN;
  return hooks.waitForSpace(sk) ? 0 : EAGAIN;
}

/** The copy path: page_frag refill, frag limit, downgrade, scheduling, copy. */
function copyChunk(sk: Sock, skb: SkBuff, msg: SendMsg, want: number): number {
  const pfrag = sk_page_frag_refill(sk);
  const page = pfrag.page!;
  const merge = skb_can_coalesce(skb, page, pfrag.offset);
  if (!merge && skb.nr_frags >= sk.net.sysctl['net.core.max_skb_frags']) return NEW_SEGMENT;
  let copy = Math.min(want, pfrag.size - pfrag.offset);
  if (!tcp_downgrade_zcopy_pure(sk, skb)) return WAIT;
  copy = sk.profile.mem.scheduleChunk(sk, copy);
  if (copy === 0) return WAIT;
  msg.iov.advance(copy);
  // skb_copy_to_page_nocache(): len, data_len, truesize, wq += copy; fwd -= copy
  skb.len += copy;
  skb.data_len += copy;
  skb.truesize += copy;
  sk.sk_wmem_queued += copy;
  sk_mem_charge(sk, copy);
  if (TRACE.on) trace(sk, 'skb_copy_to_page_nocache', () => `skb #${skb.id}: copied ${copy} B into the page_frag: truesize, wq +${copy}, fwd -${copy}`, skb.id);
  if (merge) skb.frags[skb.frags.length - 1].size += copy;
  else {
    skb.frags.push({ page, off: pfrag.offset, size: copy, n: 1 });
    page.refs++;
  }
  pfrag.offset += copy;
  return copy;
}

/**
 * sk_page_frag_refill(sk, pfrag) with 32 bytes minimum: reuse the page from offset 0 when only
 * the frag holds it, keep it while 32 bytes remain, else take a new 32 KiB page (4 KiB when
 * net.core.high_order_alloc_disable is set). The frag memory itself is never charged.
 */
function sk_page_frag_refill(sk: Sock) {
  const pfrag = sk.pfrag;
  if (pfrag.page !== null) {
    if (pfrag.page.refs === 1) {
      pfrag.offset = 0;
      return pfrag;
    }
    if (pfrag.offset + 32 <= pfrag.size) return pfrag;
    pfrag.page.refs--;
  }
  const order3 = sk.net.sysctl['net.core.high_order_alloc_disable'] === 0;
  pfrag.page = { id: sk.net.nextPageId++, kind: 'page_frag', refs: 1 };
  pfrag.size = order3 ? SKB_FRAG_PAGE_SIZE : 4096;
  pfrag.offset = 0;
  return pfrag;
}

/**
 * The splice path: 6.x tcp_sendmsg_locked() MSG_SPLICE_PAGES branch -> skb_splice_from_iter()
 * -> skb_append_pagefrags(); 5.x do_tcp_sendpages() -> tcp_build_frag(). Caller pages join the
 * skb by reference (a page continuing the last frag extends it, else it needs a frag slot below
 * net.core.max_skb_frags), truesize, wq and fwd move by bytes, SKBFL_SHARED_FRAG is set.
 * Whether a pure zerocopy skb is downgraded first is the profile's (missing before f8d9d938514f).
 */
function spliceChunk(sk: Sock, skb: SkBuff, msg: SendMsg, want: number): number {
  const maxFrags = sk.net.sysctl['net.core.max_skb_frags'];
  if (sk.profile.spliceViaSendpage && skb.nr_frags >= maxFrags) {
    // tcp_build_frag(): a page that does not continue the last frag needs a slot: new segment
    const cur = msg.iov.current();
    if (cur !== null && !skb_can_coalesce(skb, userPage(Math.floor(cur.addr / PAGE_SIZE)), cur.addr % PAGE_SIZE)) return NEW_SEGMENT;
  }
  if (sk.profile.zerocopy.spliceDowngrades && !tcp_downgrade_zcopy_pure(sk, skb)) return WAIT;
  if (skb.pure) {
    if (TRACE.on) trace(sk, 'tcp_build_frag', () => `skb #${skb.id} stays SKBFL_PURE_ZEROCOPY although it now holds spliced pages: no downgrade on this path before f8d9d938514f`, skb.id);
  }
  const copy = sk.profile.mem.scheduleChunk(sk, want);
  if (copy === 0) return WAIT;
  let done = 0;
  while (done < copy) {
    const cur = msg.iov.current();
    if (cur === null) break;
    const off = cur.addr % PAGE_SIZE;
    const page = userPage(Math.floor(cur.addr / PAGE_SIZE));
    const part = Math.min(copy - done, cur.left, PAGE_SIZE - off);
    if (skb_can_coalesce(skb, page, off)) skb.frags[skb.frags.length - 1].size += part;
    else if (skb.nr_frags < maxFrags) {
      skb.frags.push({ page, off, size: part, n: 1 });
      page.refs++;
    } else break;
    msg.iov.advance(part);
    done += part;
  }
  if (done === 0) return NEW_SEGMENT;
  skb.len += done;
  skb.data_len += done;
  skb.truesize += done;
  skb.shared_frag = true;
  sk.sk_wmem_queued += done;
  sk_mem_charge(sk, done);
  if (TRACE.on) trace(sk, 'skb_splice_from_iter', () => `skb #${skb.id}: ${done} B of page-cache pages by reference: truesize, wq +${done}, fwd -${done}`, skb.id);
  return done;
}

/** The MSG_ZEROCOPY path: mark pure, schedule unless pure, pin user pages. */
function zerocopyChunk(sk: Sock, skb: SkBuff, msg: SendMsg, copy: number, uarg: UbufInfo): number {
  if (skb.len === 0 && sk.profile.zerocopy.marksPure) {
    skb.pure = true;
    if (TRACE.on) trace(sk, 'tcp_sendmsg_locked', () => `skb #${skb.id} marked SKBFL_PURE_ZEROCOPY (first zerocopy append to an empty skb)`, skb.id);
  }
  let n = copy;
  if (!skb.pure) {
    n = sk.profile.mem.scheduleChunk(sk, copy);
    if (n === 0) return WAIT;
  }
  const ret = skb_zerocopy_iter_stream(sk, skb, msg.iov, n, uarg, userPage);
  if (ret === -EMSGSIZE || ret === -EEXIST) return NEW_SEGMENT;
  return ret;
}
