// tools/testing/selftests/net/msg_zerocopy.c, TCP test, modelled on the `link` path: the
// sender (do_tx: sendmsg(MSG_DONTWAIT [| MSG_ZEROCOPY]) of the payload, error-queue draining
// every -l sends (6.x selftest), poll(POLLOUT) with 500 ms waits draining completions while
// not writable, then up to 500 ms for the remaining completions) and the receiver (do_rx:
// SO_RCVBUF 1 << 21, SO_RCVLOWAT 1 << 16, recv(NULL, 1 << 21, MSG_TRUNC | MSG_DONTWAIT)).
// Output lines are the selftest's own: "tx=... (... MB) txc=... zc=..." and "rx=... (... MB)".
// The selftest of the profile's era is modelled: 5.x profiles run the 5.17 program (no -l,
// zc = the last completion's code), 6.18 the 6.x program (-l, -Z; zc = y only with -Z 1).
import { EventQueue, Timer } from '../engine/queue.ts';
import { sk_stream_is_writeable, type Sock } from '../model/sock.ts';
import { EAGAIN, tcp_sendmsg_locked, type SendMsg } from '../model/tcp_sendmsg.ts';
import { IovIter, read_error_queue, SO_EE_CODE_ZEROCOPY_COPIED } from '../model/zerocopy.ts';
import type { LinkFlow, LinkParams } from '../paths/link.ts';
import { Host } from './host.ts';
import { Sampler, type Bucket, type Stat } from './series.ts';

/** CPU time of the sender's system calls (simulated; shapes throughput, not the accounting). */
export interface CpuCosts {
  /** sendmsg() entry/exit, socket lock, skb allocation. */
  syscall_ns: number;
  /** Copy path: ns per byte copied (10 GB/s). */
  copy_ns_per_byte: number;
  /** Zerocopy path: pinning one user page (get_user_pages fast path). */
  pin_ns_per_page: number;
  /** One recvmsg(MSG_ERRQUEUE) or poll(). */
  small_call_ns: number;
  /** Wake-up latency of a task sleeping in poll(). */
  wake_ns: number;
}

export const DEFAULT_COSTS: CpuCosts = { syscall_ns: 1000, copy_ns_per_byte: 0.1, pin_ns_per_page: 60, small_call_ns: 300, wake_ns: 2000 };

export interface ZcOptions {
  kernel: string;
  family: 'ipv4' | 'ipv6';
  /** -t: cfg_runtime_ms = 200 + t * 1000 */
  runtime_ms: number;
  /** -s */
  payload: number;
  /** -z */
  zerocopy: boolean;
  /** -l (6.x selftest) */
  notify_limit: number;
  /** -Z (6.x selftest): -1 = not checked */
  expect_zerocopy: -1 | 0 | 1;
  link: LinkParams;
  cc: string;
  /** net.core.wmem_max (also rmem_max) override, e.g. to reproduce a host whose SO_SNDBUF 1<<21 is not capped. */
  wmem_max?: number;
  tcp_mem?: [number, number, number];
  costs: CpuCosts;
  /** Sampling interval of the memory time series, ns. */
  sample_ns: number;
  /** Buckets kept for plots / JSON / CSV. */
  series_points: number;
  /** Called every `progress_ms` of simulated time with the fraction done. */
  onProgress?: (fraction: number) => void;
}

export interface MemTable {
  memcg_sock: Stat;
  fwd_alloc: Stat;
  wmem_queued: Stat;
  tcp_mem_pages: Stat;
  sndbuf: Stat;
  pressure_ms: number;
}

export interface ZcResult {
  kernel: string;
  txLine: string;
  rxLine: string;
  sndbuf: number;
  mem: MemTable;
  series: Bucket[];
  /** Throughput of the run, bits per second of payload. */
  goodput_bps: number;
  sim_ns: number;
  events: number;
  wall_ms: number;
  sendmsg_calls: number;
  eagain: number;
  completions: number;
  expected_completions: number;
  lastCode: number | null;
  flowStats: LinkFlow['stats'];
  final: { fwd_alloc: number; wmem_queued: number; memcg_sock: number; optmem: number };
}

/** tcp_poll()'s EPOLLOUT: writeable, else it sets SOCK_NOSPACE (so that an ACK freeing space wakes the poller). */
export function tcp_poll_writeable(sk: Sock): boolean {
  if (sk_stream_is_writeable(sk)) return true;
  sk.nospace = true;
  return false;
}

/** The msg_zerocopy sender (do_tx) as a state machine on the event queue. */
export class ZcSender {
  packets = 0;
  bytes = 0;
  completions = 0;
  expected = 0;
  calls = 0;
  eagain = 0;
  private sendsSinceNotify = 0;
  /** 5.17: `zerocopied`; 6.x: cfg_expect_zerocopy (overwritten on a mismatch). */
  private zerocopied = -1;
  private expectZc: number;
  lastCode: number | null = null;
  private waiting = false;
  private waitDeadline = 0;
  /**
   * poll()'s timeout (schedule_hrtimeout): cancelled when the poller is woken, as the kernel
   * cancels the hrtimer, so a wake-up leaves no stale event behind in the queue.
   */
  private readonly waitTimer: Timer;
  private readonly msg: SendMsg;
  private phase: 'run' | 'remaining' | 'done' = 'run';
  private readonly buf: { addr: number; len: number }[];
  private readonly sixX: boolean;
  readonly stderr: string[] = [];
  private remainingStop = 0;
  onDone: (() => void) | null = null;

  constructor(
    readonly q: EventQueue,
    readonly flow: LinkFlow,
    readonly opts: { payload: number; zerocopy: boolean; notify_limit: number; expect_zerocopy: number; tstop: number; costs: CpuCosts },
  ) {
    this.sixX = flow.sk.profile.mem.perCpuReserve;
    this.expectZc = opts.expect_zerocopy;
    // static char payload[IP_MAXPACKET]: one page-aligned buffer, the same pages every send
    this.buf = [{ addr: 0x40000000, len: opts.payload }];
    flow.listener = { wake: () => this.wake() };
    this.waitTimer = new Timer(q, this.pollTimeout);
    this.msg = { iov: new IovIter(this.buf), zerocopy: opts.zerocopy, more: false, eor: false, dontwait: true };
  }

  start(): void {
    this.q.at(this.q.now, this.iterate);
  }

  private sendCost(n: number): number {
    const c = this.opts.costs;
    if (this.opts.zerocopy) return c.syscall_ns + Math.ceil(n / 4096) * c.pin_ns_per_page;
    return c.syscall_ns + n * c.copy_ns_per_byte;
  }

  /** One pass of do_tx()'s loop: do_sendmsg(), maybe do_recv_completions(), then do_poll(POLLOUT). */
  private readonly iterate = (): void => {
    const sk = this.flow.sk;
    sk.net.now_ms = this.q.now / 1e6;
    // the same buffer every call: one msghdr whose iov_iter starts over (tcp_sendmsg keeps no reference)
    const msg = this.msg;
    msg.iov.rewind();
    const ret = tcp_sendmsg_locked(sk, msg, this.flow);
    this.calls++;
    let cost = this.sendCost(ret > 0 ? ret : 0);
    if (ret === -EAGAIN) this.eagain++;
    else if (ret < 0) throw new Error(`send: errno ${-ret}`);
    else {
      this.sendsSinceNotify++;
      this.packets++;
      this.bytes += ret;
      if (this.opts.zerocopy && ret > 0) this.expected++;
    }
    if (this.sixX && this.opts.zerocopy && this.sendsSinceNotify >= this.opts.notify_limit) cost += this.drainCompletions();
    this.q.after(cost, this.poll);
  };

  /** do_poll(fd, POLLOUT): true when writable; POLLERR alone wakes it but returns false. */
  private readonly poll = (): void => {
    const sk = this.flow.sk;
    if (tcp_poll_writeable(sk)) {
      this.loopEnd(this.opts.costs.small_call_ns);
      return;
    }
    if (sk.error_queue.length > 0) {
      // poll returned POLLERR: do_recv_completions(), poll again
      const cost = this.opts.zerocopy ? this.drainCompletions() : 0;
      this.q.after(cost + this.opts.costs.small_call_ns, this.poll);
      return;
    }
    this.waiting = true;
    this.waitDeadline = this.q.now + 500e6; // cfg_waittime_ms
    this.waitTimer.set(this.waitDeadline);
  };

  private readonly pollTimeout = (): void => {
    if (!this.waiting || this.q.now < this.waitDeadline) return;
    this.waiting = false;
    if (this.phase === 'remaining') this.remaining();
    else this.poll();
  };

  /** sk_stream_write_space() / sk_error_report() woke the poller. */
  private wake(): void {
    if (!this.waiting) return;
    const sk = this.flow.sk;
    if (this.phase === 'remaining' ? sk.error_queue.length === 0 : !sk_stream_is_writeable(sk) && sk.error_queue.length === 0) return;
    this.waiting = false;
    this.waitTimer.clear();
    this.q.after(this.opts.costs.wake_ns, this.phase === 'remaining' ? this.remaining : this.poll);
  }

  /** } while (gettimeofday_ms() < tstop); */
  private loopEnd(cost: number): void {
    if (this.q.now + cost < this.opts.tstop) {
      this.q.after(cost, this.iterate);
      return;
    }
    this.phase = 'remaining';
    this.remainingStop = this.q.now + 500e6;
    this.q.after(cost, this.remaining);
  }

  /** do_recv_remaining_completions(): poll(POLLERR) until every completion arrived or 500 ms passed. */
  private readonly remaining = (): void => {
    if (this.phase !== 'remaining') return;
    const sk = this.flow.sk;
    if (this.opts.zerocopy && sk.error_queue.length > 0) this.drainCompletions();
    if (!this.opts.zerocopy || this.completions >= this.expected || this.q.now >= this.remainingStop) {
      this.finish();
      return;
    }
    this.waiting = true;
    this.waitDeadline = this.remainingStop;
    this.waitTimer.set(this.waitDeadline);
  };

  private finish(): void {
    this.phase = 'done';
    this.waiting = false;
    this.waitTimer.clear();
    if (this.opts.zerocopy && this.completions < this.expected) this.stderr.push(`missing notifications: ${this.completions} < ${this.expected}`);
    const zc = this.sixX ? this.opts.zerocopy && this.expectZc === 1 : this.zerocopied === 1;
    this.stderr.push(`tx=${this.packets} (${Math.floor(this.bytes / 2 ** 20)} MB) txc=${this.completions} zc=${zc ? 'y' : 'n'}`);
    this.onDone?.();
  }

  /** do_recv_completions(): recvmsg(MSG_ERRQUEUE) until EAGAIN; returns the CPU time spent. */
  private drainCompletions(): number {
    const sk = this.flow.sk;
    const entries = read_error_queue(sk);
    for (const e of entries) {
      this.completions += ((e.hi - e.lo) >>> 0) + 1;
      const zerocopy = (e.code & SO_EE_CODE_ZEROCOPY_COPIED) === 0 ? 1 : 0;
      this.lastCode = e.code;
      if (this.sixX) {
        if (this.expectZc !== -1 && this.expectZc !== zerocopy) {
          this.stderr.push(`serr: ee_code: ${zerocopy} != expected ${this.expectZc}`);
          this.expectZc = zerocopy;
        }
      } else if (this.zerocopied === -1) this.zerocopied = zerocopy;
      else if (this.zerocopied !== zerocopy) {
        this.stderr.push('serr: inconsistent');
        this.zerocopied = zerocopy;
      }
    }
    this.sendsSinceNotify = 0;
    return (entries.length + 1) * this.opts.costs.small_call_ns;
  }
}

/** Run the selftest pair for one kernel profile. */
export function runMsgZerocopy(o: ZcOptions): ZcResult {
  const q = new EventQueue();
  const sysctl: Record<string, unknown> = {};
  if (o.wmem_max !== undefined) sysctl['net.core.wmem_max'] = o.wmem_max;
  if (o.tcp_mem !== undefined) sysctl['net.ipv4.tcp_mem'] = o.tcp_mem;
  const host = new Host(q, { kernel: o.kernel, link: o.link, cc: o.cc, sysctl });
  const flow = host.openFlow({
    sndbuf: 1 << 21, // do_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, 1 << 21)
    zerocopy: o.zerocopy,
    flow: { family: o.family, rcvbuf: 1 << 21, rcvlowat: 1 << 16, initcwnd: 10, rto_min_ns: 200e6, rx_wake_ns: o.costs.wake_ns, rx_read_max: 1 << 21 },
  });
  const sk = flow.sk;
  const tstop = o.runtime_ms * 1e6;
  const sender = new ZcSender(q, flow, { payload: o.payload, zerocopy: o.zerocopy, notify_limit: o.notify_limit, expect_zerocopy: o.expect_zerocopy, tstop, costs: o.costs });
  const probe = [0, 0, 0, 0, 0, 0];
  const sampler = new Sampler(
    q,
    () => {
      probe[0] = host.memcgSockBytes();
      probe[1] = sk.sk_forward_alloc;
      probe[2] = sk.sk_wmem_queued;
      probe[3] = host.net.proto.memory_allocated;
      probe[4] = sk.sk_sndbuf;
      probe[5] = host.net.proto.memory_pressure ? 1 : 0;
      return probe;
    },
    o.sample_ns,
    0,
    tstop,
    o.series_points,
  );
  let rxAtStop = 0;
  q.at(tstop, () => (rxAtStop = flow.rxBytes));
  let done = false;
  sender.onDone = () => {
    done = true;
  };
  const wall0 = performance.now();
  sender.start();
  const step = 50e6;
  let t = 0;
  while (!done && t < tstop + 1e9) {
    t += step;
    q.runUntil(t);
    o.onProgress?.(Math.min(1, t / tstop));
  }
  const wall_ms = performance.now() - wall0;
  // the receiver runs cfg_runtime_ms + 400 ms and prints what it flushed
  const rxLine = `rx=${flow.rxCalls} (${Math.floor(flow.rxBytes / 2 ** 20)} MB)`;
  return {
    kernel: o.kernel,
    txLine: sender.stderr.join('\n'),
    rxLine,
    sndbuf: sk.sk_sndbuf,
    mem: {
      memcg_sock: sampler.stat('memcg_sock'), fwd_alloc: sampler.stat('fwd_alloc'), wmem_queued: sampler.stat('wmem_queued'),
      tcp_mem_pages: sampler.stat('tcp_mem_pages'), sndbuf: sampler.stat('sndbuf'), pressure_ms: sampler.pressureNs / 1e6,
    },
    series: sampler.series(),
    goodput_bps: (rxAtStop * 8e9) / tstop,
    sim_ns: q.now,
    events: q.processed,
    wall_ms,
    sendmsg_calls: sender.calls,
    eagain: sender.eagain,
    completions: sender.completions,
    expected_completions: sender.expected,
    lastCode: sender.lastCode,
    flowStats: flow.stats,
    final: { fwd_alloc: sk.sk_forward_alloc, wmem_queued: sk.sk_wmem_queued, memcg_sock: host.memcgSockBytes(), optmem: sk.sk_omem_alloc },
  };
}
