// A kernel profile: everything that differs between the kernel versions skmem models, as one
// strategy object per version (the model code calls these hooks instead of testing versions).
import type { Sock } from '../model/sock.ts';
import type { SkBuff } from '../model/skbuff.ts';

export type ProfileName = '5.15' | '5.16-v1' | '5.16' | '5.17' | '6.18';

/** Kernel build facts ("config"); `typical` defaults per profile, overridable by --set or `config:`. */
export interface KernelConfig {
  /** MAX_TCP_HEADER = L1_CACHE_ALIGN(128 + MAX_HEADER) (include/net/tcp.h); 320 on distro configs, 192 on this VM. */
  max_tcp_header: number;
  /** MAX_HEADER (include/linux/netdevice.h); 6.14+ sizes the small-head cache from GRO_MAX_HEAD = MAX_HEADER + 128. */
  max_header: number;
  /** CPUs; the 6.x per-CPU tcp_memory_allocated reserve can hide up to mem_pcpu_rsv pages per CPU. */
  nr_cpus: number;
  /** The sender has CAP_IPC_LOCK (root): mm_account_pinned_pages() is skipped. */
  cap_ipc_lock: boolean;
  /** RLIMIT_MEMLOCK of the sender in bytes (-1 = unlimited): caps user->locked_vm for MSG_ZEROCOPY pins. */
  rlimit_memlock: number;
}

/** Sysctls the model reads (per network namespace where the kernel makes them so). */
export interface NetSysctls {
  'net.core.optmem_max': number;
  'net.core.wmem_max': number;
  'net.core.max_skb_frags': number;
  'net.core.high_order_alloc_disable': number;
  'net.core.mem_pcpu_rsv': number;
  'net.ipv4.tcp_wmem': [number, number, number];
  'net.ipv4.tcp_rmem': [number, number, number];
  'net.ipv4.tcp_mem': [number, number, number];
  'net.ipv4.tcp_autocorking': number;
  'net.ipv4.tcp_notsent_lowat': number;
  /** TCP small queues' cap on bytes in the qdisc/NIC per socket (1 MiB in 5.x, 4 MiB in 6.x). */
  'net.ipv4.tcp_limit_output_bytes': number;
}

/** Where skb heads come from: kmalloc classes (<= 6.2) or skb_small_head_cache (6.3+). */
export interface HeadAllocator {
  readonly name: string;
  /** skb_end_offset() of alloc_skb(size) (net/core/skbuff.c __alloc_skb / kmalloc_reserve). */
  endOffset(size: number, cfg: KernelConfig): number;
}

/**
 * Socket memory accounting rules that changed in 6.0 (include/net/sock.h, net/core/sock.c):
 * how much sk_wmem_schedule()/sk_forced_mem_schedule() convert to pages, and when
 * sk_mem_uncharge() reclaims.
 */
export interface MemAccounting {
  readonly name: string;
  /** Bytes passed to __sk_mem_schedule() by sk_wmem_schedule(size) when size > fwd. */
  wmemScheduleBytes(size: number, fwd: number): number;
  /** Bytes converted to pages by sk_forced_mem_schedule(size) when size > fwd. */
  forcedScheduleBytes(size: number, fwd: number): number;
  /** What sk_mem_uncharge() does after adding to fwd (5.x: reclaim above 2 MiB; 6.x: always). */
  afterUncharge(sk: Sock): void;
  /** The copy-path / non-pure zerocopy scheduling call: sk_wmem_schedule (5.x) or tcp_wmem_schedule (6.x). Returns bytes allowed (0 = wait). */
  scheduleChunk(sk: Sock, copy: number): number;
  /** 5.x reclaims from the write/delack/keepalive timers and close; 6.x does not need to. */
  readonly timerReclaim: boolean;
  /** tcp_stream_alloc_skb() first calls sk_mem_reclaim_partial() under memory pressure (5.x; gone in 6.x). */
  readonly reclaimBeforeAllocUnderPressure: boolean;
  /** 6.x: tcp_memory_allocated goes through a per-CPU reserve of mem_pcpu_rsv pages. */
  readonly perCpuReserve: boolean;
  /** 6.x applies the fair-share test only under global (not memcg) pressure. */
  readonly fairShareGlobalOnly: boolean;
}

/** The SKBFL_PURE_ZEROCOPY policy: the part of the change this project is about. */
export interface PureZerocopyPolicy {
  readonly name: 'P0' | 'P1' | 'P2' | 'P2+';
  /** tcp_sendmsg_locked(): mark an empty skb pure on its first zerocopy append. */
  readonly marksPure: boolean;
  /** truesize set by tcp_stream_alloc_skb() for a head with this end offset. */
  allocTruesize(endOffset: number, size: number, cfg: KernelConfig): number;
  /** What tcp_wmem_free_skb() uncharges for a pure skb. */
  pureFreeUncharge(skb: SkBuff, cfg: KernelConfig): number;
  /** What the pure -> mixed downgrade charges (0 when the policy has no pure skbs). */
  downgradeCharge(skb: SkBuff): number;
  /** sendpage / MSG_SPLICE_PAGES downgrade a pure skb first (the f8d9d938514f fix). */
  readonly spliceDowngrades: boolean;
  /** skb_split() copies SKBFL_PURE_ZEROCOPY onto the new half. */
  readonly splitCopiesPure: boolean;
}

/** The receiver's window arithmetic and ACK bookkeeping that differ between 5.x and 6.x (src/profiles/rcv_window.ts). */
export interface RcvWindowPolicy {
  readonly name: string;
  /** tcp_win_from_space(): the window `space` bytes of receive buffer may offer; `ratio` is scaling_ratio in 1/256. */
  winFromSpace(ratio: number, space: number): number;
  /** tcp_measure_rcv_mss() learns scaling_ratio = len / truesize from full-sized segments and re-clamps the window (6.6+). */
  readonly learnsScalingRatio: boolean;
  /** tcp_measure_rcv_mss() marks ICSK_ACK_PUSHED for a full-sized segment carrying PSH (6.x). */
  readonly pushedOnFullSegment: boolean;
  /** tcp_dec_quickack_mode() spends a quick-ACK credit only when the ACK sent was scheduled (6.x); 5.x spends one per ACK. */
  readonly quickAckCountsOnlyScheduled: boolean;
  /** tcp_select_initial_window(): the first window offered is at most U16_MAX (5.x) or the whole space (6.x). */
  readonly initialWindowMax: number;
  /**
   * tcp_init_buffer_space() runs before the timestamp option is taken off advmss (5.x: the
   * clamp keeps advmss + 12 of room) or after it (6.x).
   */
  readonly clampAdvmssHasTimestamps: boolean;
}

/** Transmit rules of net/ipv4/tcp_output.c and tcp.c that differ between 5.x and 6.18 (src/profiles/tcp_output_rules.ts). */
export interface TcpOutputRules {
  readonly name: string;
  /** tcp_small_queue_check() sends regardless of TSQ while the rtx queue holds at most this many skbs (5.x: 0; 6.x: 1). */
  readonly tsqSendsUpToRtxSkbs: number;
  /** tcp_tso_should_defer(): an ACK due later than min(srtt / 2, this) is too late to wait for (6.x: 1 ms; 5.x: no cap). */
  readonly deferAckWaitCapNs: number;
  /** tcp_should_autocork() refuses an EOR-marked tail (6.x, tcp_skb_can_collapse_to). */
  readonly autocorkChecksEor: boolean;
  /** tcp_cwnd_test() lets a one-segment skb carrying the FIN out past a full cwnd (5.x; removed by 6.18). */
  readonly finIgnoresCwnd: boolean;
  /** tcp_schedule_loss_probe() with one packet out adds the route's RTO_MIN (6.x tcp_rto_min()) or the constant TCP_RTO_MIN, 200 ms (5.x). */
  readonly tlpAddsRouteRtoMin: boolean;
}

export interface KernelProfile {
  readonly name: ProfileName;
  readonly title: string;
  /** What this profile is, in one paragraph, with the commits it stands for. */
  readonly summary: string;
  /** A release string for the observation's kernel.release field. */
  readonly release: string;
  readonly sysctlDefaults: NetSysctls;
  readonly configDefaults: KernelConfig;
  readonly head: HeadAllocator;
  readonly mem: MemAccounting;
  readonly zerocopy: PureZerocopyPolicy;
  /**
   * Pages per transmit call when sendfile() splices a file into the socket: 6.5+ splice_to_socket()
   * sends a pipe's worth (PIPE_DEF_BUFFERS = 16) per tcp_sendmsg_locked(MSG_SPLICE_PAGES);
   * 5.x pipe_to_sendpage() calls do_tcp_sendpages() once per page.
   */
  readonly splicePagesPerCall: number;
  /** mm_account_pinned_pages() skips accounting when RLIMIT_MEMLOCK is RLIM_INFINITY (6.x). */
  readonly memlockInfinityBypass: boolean;
  /** sk_stream_kill_queues() also WARNs on sk_forward_alloc after the final reclaim (5.x; gone by 6.18). */
  readonly killQueuesWarnsFwd: boolean;
  /**
   * tcp_write_xmit() calls tcp_grow_skb() before its window test (6.10+, 8ee602c63520): the send
   * head takes payload from the next skb with skb_shift() (never from or into a zerocopy skb).
   */
  readonly growSkb: boolean;
  /** tcp_sendmsg_locked()'s wait_for_space frees an empty tail skb (6.x); 5.x only on do_error. */
  readonly removeEmptySkbOnWait: boolean;
  /**
   * 5.x: sendfile reaches TCP through pipe_to_sendpage() -> do_tcp_sendpages(): tcp_build_frag()
   * tests the frag limit before downgrading a pure skb and scheduling (a full skb goes to a new
   * segment untouched), MSG_SENDPAGE_NOTLAST spares the push after all but the pipe batch's last
   * page, and wait_for_space pushes even when the call copied nothing. 6.x: MSG_SPLICE_PAGES
   * through tcp_sendmsg_locked() (downgrade and schedule first, skb_splice_from_iter() meets
   * the limit after, one push per call, none at a wait before copying).
   */
  readonly spliceViaSendpage: boolean;
  /** The receiving peer's window arithmetic (the peer runs the same kernel). */
  readonly rcv: RcvWindowPolicy;
  /** The transmit side's TSQ, TSO-deferral and autocork rules. */
  readonly output: TcpOutputRules;
}
