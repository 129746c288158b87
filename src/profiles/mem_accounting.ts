// The two generations of socket memory accounting (include/net/sock.h, net/core/sock.c,
// net/ipv4/tcp.c). 5.x: sk_wmem_schedule()/sk_forced_mem_schedule() convert the whole size to
// pages, sk_mem_uncharge() reclaims only past 2 MiB (SK_RECLAIM_THRESHOLD) and timers reclaim
// the rest; exact tcp_memory_allocated. 6.0+: delta scheduling (7c80b038d23e, 219160be496f),
// reclaim on every uncharge (4890b686f408), tcp_wmem_schedule() for partial progress, and the
// per-CPU tcp_memory_allocated reserve (3cd3399dd7a8).
import { __sk_mem_reclaim, sk_forced_mem_schedule, sk_mem_reclaim, sk_wmem_schedule } from '../model/sk_mem.ts';
import { sk_unused_reserved_mem, type Sock } from '../model/sock.ts';
import type { MemAccounting } from './types.ts';

const SK_RECLAIM_THRESHOLD = 1 << 21;
const SK_RECLAIM_CHUNK = 1 << 20;

export const memAccountingV5: MemAccounting = {
  name: '5.x: whole-size scheduling, lazy reclaim (>= 2 MiB), exact tcp_memory_allocated',
  wmemScheduleBytes: (size) => size,
  forcedScheduleBytes: (size) => size,
  afterUncharge(sk: Sock) {
    if (sk.sk_forward_alloc - sk_unused_reserved_mem(sk) >= SK_RECLAIM_THRESHOLD) __sk_mem_reclaim(sk, SK_RECLAIM_CHUNK);
  },
  // 5.x tcp_sendmsg_locked(): plain sk_wmem_schedule(copy), all or nothing
  scheduleChunk: (sk, copy) => (sk_wmem_schedule(sk, copy) ? copy : 0),
  timerReclaim: true,
  reclaimBeforeAllocUnderPressure: true,
  perCpuReserve: false,
  fairShareGlobalOnly: false,
};

export const memAccountingV6: MemAccounting = {
  name: '6.x: delta scheduling, reclaim on every uncharge, per-CPU tcp_memory_allocated reserve',
  wmemScheduleBytes: (size, fwd) => size - fwd,
  forcedScheduleBytes: (size, fwd) => size - fwd,
  afterUncharge: (sk) => sk_mem_reclaim(sk),
  scheduleChunk: tcp_wmem_schedule,
  timerReclaim: false,
  reclaimBeforeAllocUnderPressure: false,
  perCpuReserve: true,
  fairShareGlobalOnly: true,
};

/**
 * tcp_wmem_schedule() (6.0+, "tcp: fix possible freeze in tx path under memory pressure"):
 * when scheduling fails, force up to tcp_wmem[0] - wq and copy what fwd now covers.
 */
function tcp_wmem_schedule(sk: Sock, copy: number): number {
  if (sk_wmem_schedule(sk, copy)) return copy;
  const left = sk.net.sysctl['net.ipv4.tcp_wmem'][0] - sk.sk_wmem_queued;
  if (left > 0) sk_forced_mem_schedule(sk, Math.min(left, copy));
  return Math.max(0, Math.min(copy, sk.sk_forward_alloc));
}
