// Socket memory scheduling, charging and reclaim.
// Mirrors include/net/sock.h (sk_wmem_schedule, sk_mem_charge, sk_mem_uncharge, sk_mem_reclaim,
// sk_mem_reclaim_final) and net/core/sock.c (__sk_mem_schedule, __sk_mem_raise_allocated,
// __sk_mem_reduce_allocated, __sk_mem_reclaim), net/ipv4/tcp_output.c sk_forced_mem_schedule().
// What differs between 5.x and 6.x (delta scheduling, eager reclaim, per-CPU reserve) comes
// from the profile's MemAccounting strategy.
import { PAGE_SIZE, sk_mem_pages } from './skb_geometry.ts';
import { sk_stream_moderate_sndbuf, sk_unused_reserved_mem, type Sock } from './sock.ts';
import { TRACE, trace } from './trace.ts';

/** sk_wmem_schedule(): true when `size` bytes are covered by fwd, scheduling pages if needed. */
export function sk_wmem_schedule(sk: Sock, size: number): boolean {
  if (size <= sk.sk_forward_alloc) return true;
  return __sk_mem_schedule(sk, sk.profile.mem.wmemScheduleBytes(size, sk.sk_forward_alloc));
}

/** __sk_mem_schedule(sk, size, SK_MEM_SEND) */
export function __sk_mem_schedule(sk: Sock, size: number): boolean {
  const amt = sk_mem_pages(size);
  sk.sk_forward_alloc += amt * PAGE_SIZE;
  if (__sk_mem_raise_allocated(sk, size, amt)) {
    noteScheduled(sk, amt);
    if (TRACE.on) trace(sk, '__sk_mem_schedule', () => `+${amt} page(s) for ${size} B (tcp_memory_allocated ${sk.net.proto.exact_pages}, memcg ${sk.net.memcg?.sock_pages ?? '-'})`);
    return true;
  }
  sk.sk_forward_alloc -= amt * PAGE_SIZE;
  if (TRACE.on) trace(sk, '__sk_mem_raise_allocated', () => `refused ${amt} page(s): tcp_memory_allocated ${sk.net.proto.memory_allocated + amt} vs tcp_mem ${sk.net.proto.tcp_mem.join('/')}${sk.net.proto.memory_pressure ? ', under pressure' : ''}, wq ${sk.sk_wmem_queued} + ${size} < sndbuf ${sk.sk_sndbuf}`);
  return false;
}

/**
 * __sk_mem_raise_allocated() for SK_MEM_SEND on a stream socket: raise tcp_memory_allocated and
 * the memcg, then admit under tcp_mem[0], refuse above tcp_mem[2], and in between admit while
 * wq < tcp_wmem[0], when not under pressure, or by the fair-share test. Suppressed allocations
 * still succeed when wq + size >= sndbuf (the caller would otherwise never make progress).
 */
export function __sk_mem_raise_allocated(sk: Sock, size: number, amt: number): boolean {
  const { proto, memcg, sysctl } = sk.net;
  proto.add(amt);
  const allocated = proto.memory_allocated;
  const charged = memcg === null ? true : memcg.try_charge(amt);
  if (charged && admit(sk, allocated)) return true;
  // suppress_allocation:
  sk_stream_moderate_sndbuf(sk);
  if (sk.sk_wmem_queued + size >= sk.sk_sndbuf) {
    if (memcg !== null && !charged) memcg.force_charge(amt);
    return true;
  }
  proto.sub(amt);
  if (memcg !== null && charged) memcg.uncharge(amt);
  void sysctl;
  return false;
}

function admit(sk: Sock, allocated: number): boolean {
  const { proto } = sk.net;
  const [min, pressure, max] = proto.tcp_mem;
  if (allocated <= min) {
    proto.leave_memory_pressure();
    return true;
  }
  if (allocated > pressure) proto.enter_memory_pressure();
  if (allocated > max) return false;
  if (sk.sk_wmem_queued < sk.net.sysctl['net.ipv4.tcp_wmem'][0]) return true;
  // The model has no memcg socket pressure, so "under pressure" is the global flag in both
  // 5.x (tcp_under_memory_pressure) and 6.x (sk_under_global_memory_pressure).
  if (!proto.memory_pressure) return true;
  // the fair-share test reads the approximate socket count (percpu_counter_read_positive): with
  // fewer than 16 sockets on a CPU it is 0, and every socket passes
  const perSock = sk_mem_pages(sk.sk_wmem_queued + sk.sk_rmem_alloc + sk.sk_forward_alloc);
  return max > proto.sockets_allocated_read_positive() * perSock;
}

/** sk_forced_mem_schedule(): never fails; charges the memcg with __GFP_NOFAIL. */
export function sk_forced_mem_schedule(sk: Sock, size: number): void {
  if (size <= sk.sk_forward_alloc) return;
  const amt = sk_mem_pages(sk.profile.mem.forcedScheduleBytes(size, sk.sk_forward_alloc));
  sk.sk_forward_alloc += amt * PAGE_SIZE;
  sk.net.proto.add(amt);
  sk.net.memcg?.force_charge(amt);
  noteScheduled(sk, amt);
  if (TRACE.on) trace(sk, 'sk_forced_mem_schedule', () => `+${amt} page(s) for ${size} B, never refused`);
}

function noteScheduled(sk: Sock, pages: number): void {
  sk.mem_pages += pages;
  sk.ledger.scheduled_pages += pages;
}

/** sk_mem_charge(): fwd -= size, unchecked (fwd may go negative). */
export function sk_mem_charge(sk: Sock, size: number): void {
  sk.sk_forward_alloc -= size;
  sk.ledger.charged += size;
}

/**
 * sk_mem_uncharge(): fwd += size, then the version's reclaim rule. `fn`/`why` name the caller
 * in the accounting trail (recorded after the uncharge, before any reclaim).
 */
export function sk_mem_uncharge(sk: Sock, size: number, fn = 'sk_mem_uncharge', why?: () => string): void {
  sk.sk_forward_alloc += size;
  sk.ledger.uncharged += size;
  if (TRACE.on) trace(sk, fn, () => (why ? why() : `fwd +${size}`));
  sk.profile.mem.afterUncharge(sk);
}

/** sk_mem_reclaim(): return every whole page of fwd beyond the unused reserve. */
export function sk_mem_reclaim(sk: Sock): void {
  const reclaimable = sk.sk_forward_alloc - sk_unused_reserved_mem(sk);
  if (reclaimable >= PAGE_SIZE) __sk_mem_reclaim(sk, reclaimable);
}

/** sk_mem_reclaim_partial() (5.x only): leave fwd in (0, PAGE_SIZE]. */
export function sk_mem_reclaim_partial(sk: Sock): void {
  const reclaimable = sk.sk_forward_alloc - sk_unused_reserved_mem(sk);
  if (reclaimable > PAGE_SIZE) __sk_mem_reclaim(sk, reclaimable - 1);
}

/** sk_mem_reclaim_final(): drop the reserve, then reclaim. */
export function sk_mem_reclaim_final(sk: Sock): void {
  sk.sk_reserved_mem = 0;
  sk_mem_reclaim(sk);
}

/** __sk_mem_reclaim(sk, amount): whole pages only, then __sk_mem_reduce_allocated(). */
export function __sk_mem_reclaim(sk: Sock, amount: number): void {
  const pages = Math.floor(amount / PAGE_SIZE);
  if (pages <= 0) return;
  sk.sk_forward_alloc -= pages * PAGE_SIZE;
  sk.mem_pages -= pages;
  sk.ledger.reclaimed_pages += pages;
  const { proto, memcg } = sk.net;
  if (TRACE.on) trace(sk, '__sk_mem_reclaim', () => `-${pages} page(s) returned to tcp_memory_allocated and the memcg`);
  proto.sub(pages);
  memcg?.uncharge(pages);
  if (proto.memory_pressure && proto.memory_allocated < proto.tcp_mem[0]) proto.leave_memory_pressure();
}
