// struct sock / struct tcp_sock: the per-socket counters of SO_MEMINFO, the queues, the
// zerocopy key and the socket options that matter to accounting.
// Mirrors include/net/sock.h (sk_forward_alloc, sk_wmem_queued, sk_omem_alloc, sk_sndbuf,
// sk_zckey), net/core/sock.c (sk_setsockopt SO_SNDBUF, sk_get_meminfo) and
// net/ipv4/tcp.c tcp_init_sock(), 5.15 .. 6.18.
import type { KernelConfig, KernelProfile, NetSysctls } from '../profiles/types.ts';
import { Memcg, TcpProto } from './proto_mem.ts';
import type { Page, SkBuff } from './skbuff.ts';
import { SkbQueue } from './skb_queue.ts';
import type { ErrQueueEntry } from './zerocopy.ts';

/** SOCK_MIN_SNDBUF = 2 * (2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff))) */
export const SOCK_MIN_SNDBUF = 2 * (2048 + 256);

/** The copy path's page_frag (task or socket frag): a 32 KiB compound page and an offset. */
export interface PageFrag {
  page: Page | null;
  offset: number;
  size: number;
}

/** Everything a socket shares with the other sockets of its network namespace. */
export interface NetContext {
  readonly profile: KernelProfile;
  readonly cfg: KernelConfig;
  readonly sysctl: NetSysctls;
  readonly proto: TcpProto;
  readonly memcg: Memcg | null;
  /** Simulated time, milliseconds. */
  now_ms: number;
  nextPageId: number;
  /** struct user_struct of the sending user: locked_vm pages (mm_account_pinned_pages). */
  readonly user: { locked_vm_pages: number };
}

/** One network namespace (and its user and memcg) for the given kernel, settings and limits. */
export function newNetContext(profile: KernelProfile, cfg: KernelConfig, sysctl: NetSysctls): NetContext {
  const pcpu = profile.mem.perCpuReserve ? sysctl['net.core.mem_pcpu_rsv'] : null;
  return {
    profile, cfg, sysctl,
    proto: new TcpProto(sysctl['net.ipv4.tcp_mem'], pcpu),
    memcg: new Memcg(),
    now_ms: 0,
    nextPageId: 2 ** 40,
    user: { locked_vm_pages: 0 },
  };
}

export class Sock {
  sk_forward_alloc = 0;
  sk_wmem_queued = 0;
  /** SO_MEMINFO reports sk_wmem_alloc - 1; the model keeps the reported value. */
  sk_wmem_alloc = 0;
  sk_rmem_alloc = 0;
  sk_omem_alloc = 0;
  sk_reserved_mem = 0;
  sk_sndbuf: number;
  sk_rcvbuf: number;
  sk_zckey = 0;

  /** SOCK_SNDBUF_LOCK: set by SO_SNDBUF/SO_SNDBUFFORCE, disables autotuning. */
  sndbuf_locked = false;
  /** SOCK_ZEROCOPY (SO_ZEROCOPY). */
  zerocopy = false;
  nodelay = false;
  cork = false;
  linger: { onoff: boolean; linger: number } | null = null;
  /** NETIF_F_SG in sk_route_caps: loopback and every GSO-capable route have it. */
  route_sg = true;
  state: 'ESTABLISHED' | 'CLOSE' | 'FIN_WAIT1' = 'ESTABLISHED';
  /** SOCK_DEAD: closed by the user; completions queue no notification. */
  dead = false;
  /**
   * SOCK_NOSPACE (sk_socket->flags): the application found the socket full (sendmsg's
   * wait_for_space, or tcp_poll() not writeable); tcp_check_space() acts only while it is set,
   * sk_stream_write_space() clears it once the socket is writeable again.
   */
  nospace = false;

  /** Unsent skbs (sk_write_queue), oldest first. */
  readonly write_queue: SkBuff[] = [];
  /** Sent, unacknowledged skbs (tcp_rtx_queue), oldest first. */
  readonly rtx_queue = new SkbQueue();
  /** sk_error_queue: zerocopy notifications not yet read. */
  readonly error_queue: ErrQueueEntry[] = [];

  write_seq = 0;
  snd_una = 0;
  snd_nxt = 0;
  mss_cache: number;
  /** tcp_sock send-side window and segmentation state, driven by src/tcp (tcp_output.c, tcp_input.c). */
  /** snd_wnd: the peer's last advertised window (scaled), tcp_ack_update_window(). */
  snd_wnd = 0;
  /** max_window: the largest window the peer ever offered; bounds mss_cache (tcp_bound_to_half_wnd). */
  max_window = 0;
  /** rx_opt.snd_wscale: the peer's window scale. */
  snd_wscale = 0;
  /** rx_opt.mss_clamp: the MSS negotiated at connection setup (tcp_sync_mss caps mss_cache with it). */
  mss_clamp = 536;
  /** snd_cwnd (packets); the route's `cwnd lock` pins it. */
  snd_cwnd = 10;
  /** gso_segs: cached by tcp_xmit_size_goal(). */
  gso_segs = 0;
  /** pushed_seq: write_seq at the last tcp_mark_push() (forced_push()). */
  pushed_seq = 0;
  /** snd_sml: end_seq of the last small segment sent (tcp_minshall_update). */
  snd_sml = 0;
  /** packets_out: segments in the retransmit queue (sum of tcp_skb_pcount). */
  packets_out = 0;
  pfrag: PageFrag = { page: null, offset: 0, size: 0 };

  /** This socket's pages in tcp_memory_allocated (= its memcg charge): scheduled - reclaimed. */
  mem_pages = 0;
  /** For the checkers: all pages ever scheduled and reclaimed, bytes charged and uncharged. */
  readonly ledger = { scheduled_pages: 0, reclaimed_pages: 0, charged: 0, uncharged: 0, zc_calls: 0 };
  /** 5.x: the retransmit timer's expiry (it stays armed after its work is cleared). */
  write_timer_ms: number | null = null;

  constructor(
    readonly net: NetContext,
    readonly id: number,
  ) {
    const [, wmemDefault] = net.sysctl['net.ipv4.tcp_wmem'];
    const [, rmemDefault] = net.sysctl['net.ipv4.tcp_rmem'];
    // tcp_init_sock(): sk_sndbuf = tcp_wmem[1], sk_rcvbuf = tcp_rmem[1]
    this.sk_sndbuf = wmemDefault;
    this.sk_rcvbuf = rmemDefault;
    this.mss_cache = 536;
  }

  get profile(): KernelProfile {
    return this.net.profile;
  }

  /** tcp_rtx_and_write_queues_empty() */
  queuesEmpty(): boolean {
    return this.write_queue.length === 0 && this.rtx_queue.length === 0;
  }

  /** tcp_write_queue_tail() */
  writeQueueTail(): SkBuff | undefined {
    return lastOf(this.write_queue);
  }

  /** sk_stream_memory_free(): wq < sndbuf and notsent bytes below tcp_notsent_lowat. */
  streamMemoryFree(): boolean {
    if (this.sk_wmem_queued >= this.sk_sndbuf) return false;
    const notsent = this.write_seq - this.snd_nxt;
    return notsent < this.net.sysctl['net.ipv4.tcp_notsent_lowat'];
  }
}

/**
 * The last element, or undefined when empty. Reading a[a.length - 1] of an empty array looks up
 * the property "-1" (a slow generic load in V8), so hot paths test the length first.
 */
export function lastOf<T>(a: readonly T[]): T | undefined {
  return a.length === 0 ? undefined : a[a.length - 1];
}

/**
 * sk_setsockopt(SO_SNDBUF / SO_SNDBUFFORCE): the value is capped by net.core.wmem_max (not for
 * FORCE), doubled, floored at SOCK_MIN_SNDBUF, and locks the size against autotuning.
 */
export function setSndbuf(sk: Sock, val: number, force: boolean): void {
  const capped = force ? val : Math.min(val, sk.net.sysctl['net.core.wmem_max']);
  const doubled = Math.min(capped, 0x7fffffff / 2) * 2;
  sk.sndbuf_locked = true;
  sk.sk_sndbuf = Math.max(doubled, SOCK_MIN_SNDBUF);
}

/**
 * __sk_stream_is_writeable() (include/net/sock.h): free space at least a third of the queue
 * (sk_stream_wspace >= sk_stream_min_wspace) and sk_stream_memory_free(); with the default
 * tcp_notsent_lowat the wake=1 form (unsent bytes doubled) tests the same.
 */
export function sk_stream_is_writeable(sk: Sock): boolean {
  return sk.sk_sndbuf - sk.sk_wmem_queued >= sk.sk_wmem_queued >> 1 && sk.streamMemoryFree();
}

/** sk_stream_moderate_sndbuf() (include/net/sock.h) */
export function sk_stream_moderate_sndbuf(sk: Sock): void {
  if (sk.sndbuf_locked) return;
  const unused = sk_unused_reserved_mem(sk);
  sk.sk_sndbuf = Math.max(Math.min(sk.sk_sndbuf, sk.sk_wmem_queued >> 1), unused, SOCK_MIN_SNDBUF);
}

/** sk_unused_reserved_mem() */
export function sk_unused_reserved_mem(sk: Sock): number {
  if (sk.sk_reserved_mem === 0) return 0;
  return Math.max(0, sk.sk_reserved_mem - sk.sk_wmem_queued - sk.sk_rmem_alloc);
}
