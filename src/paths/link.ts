// The `link` path: two hosts joined by a NIC of a given rate, a one-way delay, an MTU and seeded
// loss, driven by the event engine (src/engine). The sender's transmit side is the kernel's:
// tcp_push()/tcp_should_autocork(), tcp_write_xmit() with the cwnd and receive-window tests,
// Nagle, TSO autosizing and deferral (tcp_tso_should_defer), tso_fragment(), TCP small queues
// on sk_wmem_alloc (tcp_small_queue_check) released by NIC TX completion (tcp_wfree ->
// tcp_tsq_handler), the retransmit / loss-probe timer (tcp_write_timer_handler, which on 5.x
// ends in sk_mem_reclaim()), RTO and fast retransmit, retransmit collapsing. The receiver
// (host B) is helper-4's RcvSock (src/tcp/tcp_input.ts): window selection with scaling,
// quick/delayed ACKs; GRO hands it one skb per TSO burst, so ACKs are stretch ACKs.
// A real NIC sends the user pages without copying: completions say zerocopy (ee_code 0).
//
// Kernel sources: net/ipv4/tcp.c (tcp_push, tcp_should_autocork), net/ipv4/tcp_output.c
// (tcp_write_xmit, tcp_tso_autosize, tcp_tso_should_defer, tcp_small_queue_check,
// tcp_mss_split_point, tcp_wfree, tcp_tsq_handler, tcp_schedule_loss_probe,
// tcp_retrans_try_collapse, __tcp_retransmit_skb, tcp_xmit_retransmit_queue), net/ipv4/
// tcp_input.c (tcp_ack, tcp_rtt_estimator, tcp_fastretrans_alert (Reno dupack counting),
// tcp_check_space/tcp_new_space, tcp_sndbuf_expand, tcp_cleanup_rbuf in tcp.c),
// net/ipv4/tcp_timer.c (tcp_write_timer_handler, tcp_retransmit_timer), 6.18 bd3afa6f0 and
// 5.17 6d28e3552c15. Written from the source, not copied.
import { UsageError } from '../cli/errors.ts';
import type { CcSock, CongestionControl } from '../engine/cc.ts';
import { TCP_INFINITE_SSTHRESH } from '../engine/cc.ts';
import { EventFifo, EventQueue, Rng, Timer } from '../engine/queue.ts';
import { SKB_TRUESIZE, roundupPowOfTwo, SKB_DATA_ALIGN, SIZEOF_SK_BUFF, SIZEOF_SKB_SHARED_INFO } from '../model/skb_geometry.ts';
import type { SkBuff } from '../model/skbuff.ts';
import { sk_mem_reclaim } from '../model/sk_mem.ts';
import { sk_stream_is_writeable, type Sock } from '../model/sock.ts';
import type { SendHooks } from '../model/tcp_sendmsg.ts';
import { tcp_wmem_free_skb } from '../model/tcp_skb.ts';
// helper-4's receiver and sender ACK processing (tcp_ack frees and trims the rtx queue)
import { tcp_cleanup_rbuf, tcp_init_receiver, tcp_recvmsg } from '../tcp/tcp.ts';
import {
  RcvSock, tcp_ack as tcp_ack_clean, tcp_delack_timer, tcp_enter_quickack_mode, tcp_epollin_ready, tcp_rcv_data, tcp_send_ack, TCP_MAX_QUICKACKS,
  TCP_RTO_MIN_MS, TCP_TIMEOUT_MIN_MS, type Ack, type Segment,
} from '../tcp/tcp_input.ts';
import {
  __tcp_select_window, sk_gso_max_size, tcp_grow_skb, tcp_nagle_test,
  skb_shift, tcp_snd_wnd_test, tcp_xmit_size_goal, tso_fragment, SkbGsoSegs, tso_segs_of, TCP_NAGLE_CORK, TCP_NAGLE_OFF, TCP_NAGLE_PUSH, tp_nonagle, type Wire,
} from '../tcp/tcp_output.ts';

// ---- parameters ----

export interface LinkParams {
  /** Line rate, bits per second. */
  rate_bps: number;
  /** Round-trip propagation delay, ns (one-way = rtt / 2). */
  rtt_ns: number;
  mtu: number;
  /** Probability that one MSS-sized segment is lost on the wire (seeded). */
  loss: number;
  seed: number;
  /** The NIC's gso_max_size (GSO_LEGACY_MAX_SIZE; BIG TCP is not modelled). */
  gso_max_size: number;
  /** NIC TX completion after the last byte left (interrupt moderation), ns. */
  txc_delay_ns: number;
}

export const DEFAULT_LINK: LinkParams = {
  rate_bps: 100e9, rtt_ns: 50_000, mtu: 1500, loss: 0, seed: 1, gso_max_size: 65536, txc_delay_ns: 2_000,
};

const RATE_RE = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(bit|bps|b)?(?:\/s)?\s*$/i;
/** "100gbit", "25Gbit", "10g", "400mbit" -> bits per second. */
export function parseRate(text: string): number {
  const m = RATE_RE.exec(text);
  if (!m) throw new UsageError(`bad link rate "${text}" (expected e.g. 100gbit, 25gbit, 400mbit)`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const v = Number(m[1]) * mult;
  if (!(v >= 1e6)) throw new UsageError(`link rate "${text}" is below 1 Mbit/s`);
  return v;
}

const TIME_RE = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)\s*$/;
/** "50us", "1ms", "0.2s" -> ns. */
export function parseDuration(text: string, what: string): number {
  const m = TIME_RE.exec(text);
  if (!m) throw new UsageError(`bad ${what} "${text}" (expected a duration such as 50us, 1ms, 2s)`);
  const mult = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns'];
  return Math.round(Number(m[1]) * mult);
}

// ---- hosts and the NIC ----

/** Ethernet framing per segment on the wire: header 14 + FCS 4 + preamble 8 + inter-frame gap 12. */
const ETH_WIRE_OVERHEAD = 38;
/** IPv4 20 + TCP 20 + timestamps 12; IPv6 adds 20. */
const tcpIpHeader = (family: 'ipv4' | 'ipv6'): number => (family === 'ipv4' ? 52 : 72);

/** The sending host's NIC: one FIFO transmit ring drained at line rate (qdisc pfifo_fast / mq). */
export class Nic {
  busyUntil = 0;
  /** Bytes put on the wire. */
  wireBytes = 0;
  constructor(readonly rate_bps: number) {}
  /** Serialization: returns the time the last bit leaves. */
  enqueue(now: number, bytes: number): number {
    const start = this.busyUntil > now ? this.busyUntil : now;
    this.busyUntil = start + (bytes * 8e9) / this.rate_bps;
    this.wireBytes += bytes;
    return this.busyUntil;
  }
}

// ---- per-skb transmit state (TCP_SKB_CB sacked bits, skb->tstamp, clones in the NIC) ----

interface TxState {
  /** skb_mstamp_ns of the last (re)transmission. */
  sent: number;
  /** TCPCB_LOST */
  lost: boolean;
  /** TCPCB_RETRANS (ever retransmitted: no RTT sample, Karn) and TCPCB_SACKED_RETRANS (in flight again). */
  everRetrans: boolean;
  retransInFlight: boolean;
  /** Clones of this skb still owned by the NIC (skb_still_in_host_queue); at most one, as nothing retransmits an skb still in the host queue. */
  inNic: number;
  /** truesize of the clone in the NIC, charged to sk_wmem_alloc until tcp_wfree(). */
  nicTruesize: number;
}

/** The TxState of each sent skb, kept in the skb (SkBuff.tx_state, its control block): no map lookups. */
class SkbTxStates {
  get(skb: SkBuff): TxState | undefined {
    return (skb.tx_state as TxState | null) ?? undefined;
  }
  set(skb: SkBuff, st: TxState): void {
    skb.tx_state = st;
  }
  delete(skb: SkBuff): void {
    skb.tx_state = null;
  }
}

/** The link's MSS is fixed: a larger offered window changes nothing to sync (tcp_sync_mss). */
const NO_SYNC_MSS = (): void => {};

/** A GRO'd burst on its way to the receiver: [seq, end) in `segs` segments (records are reused). */
interface Arrival {
  seq: number;
  end: number;
  segs: number;
  fin: boolean;
  psh: boolean;
}

// ---- receiver-side geometry ----

/** The receiving NIC's page-pool fragment per MTU-sized frame (half a page at MTU 1500). */
const rxFragTruesize = (mtu: number): number => (mtu <= 1500 ? 2048 : roundupPowOfTwo(mtu + 256 + SKB_DATA_ALIGN(SIZEOF_SKB_SHARED_INFO)));
/** The GRO head skb (napi_alloc_skb of the headers): kmalloc-512 head => end 192. */
const RX_HEAD_END = 192;

const TCP_TIMEOUT_MIN_NS = TCP_TIMEOUT_MIN_MS * 1e6;
const TCP_RTO_MIN_NS = TCP_RTO_MIN_MS * 1e6;
/** TCP_TIMEOUT_INIT (1 s): the probe timeout before any RTT sample. */
const TCP_TIMEOUT_INIT_NS = 1e9;

export interface FlowOptions {
  family: 'ipv4' | 'ipv6';
  /** SO_RCVBUF of the receiver (doubled and capped like the kernel), or null for autotuning defaults. */
  rcvbuf: number | null;
  /** SO_RCVLOWAT of the receiver. */
  rcvlowat: number;
  initcwnd: number;
  rto_min_ns: number;
  /** The receiving application's wake-up latency after data_ready, ns. */
  rx_wake_ns: number;
  /** The receiving application reads at most this many bytes per recv() (msg_zerocopy: 1 << 21). */
  rx_read_max: number;
  /**
   * false: the receiving application reads only when told (appRead(); the step runner's `recv`
   * and `drain`), as the scenario format's receiver does. Default true: it wakes on data_ready
   * and reads everything (msg_zerocopy's do_rx).
   */
  rx_auto?: boolean;
}

/** What a flow reports to the application driving its sender (poll wake-ups). */
export interface FlowListener {
  /** sk_stream_write_space() / sk_error_report(): a poll() on the sender may return. */
  wake(): void;
}

/**
 * One TCP connection from host A to host B over the link: the sender Sock (accounting model),
 * its transmit engine, and the receiver.
 */
export class LinkFlow implements SendHooks, CcSock {
  // tcp_sock fields the engine keeps beside Sock
  snd_cwnd: number;
  snd_ssthresh = TCP_INFINITE_SSTHRESH;
  snd_cwnd_cnt = 0;
  cwndLimited = false;
  srtt_ns = 0;
  private mdev_ns = 0;
  rto_ns: number;
  private backoff = 0;
  private lost_out = 0;
  private retrans_out = 0;
  private dupacks = 0;
  /** TCP_CA_Open / TCP_CA_Recovery / TCP_CA_Loss */
  ca_state: 'open' | 'recovery' | 'loss' = 'open';
  private high_seq = 0;
  /** tp->tcp_wstamp_ns: time of the last transmission of any kind (no pacing: when it left), -Infinity before the first. */
  private wstamp_ns = -Infinity;
  /** TSQ_THROTTLED */
  private tsqThrottled = false;
  private max_packets_out = 0;
  /** icsk_pending of the retransmit timer: 0, RTO or loss probe. */
  private pending: 0 | 'rto' | 'tlp' = 0;
  private readonly rtxTimer: Timer;
  private readonly delackTimer: Timer;
  private readonly tx = new SkbTxStates();
  readonly wire: Wire;
  readonly mss: number;
  private readonly gsoMax: number;
  private readonly hdr: number;
  readonly rcv: RcvSock;
  private readonly ofo: { seq: number; end: number; truesize: number }[] = [];
  private readonly arrivalPool: Arrival[] = [];
  /** rxFragTruesize() of the link's MTU. */
  private readonly rxFragTruesize: number;
  private readonly rxSeg: Segment = { seq: 0, end_seq: 0, len: 0, truesize: 0, seg_len: 0, nr_frags: 0, end_offset: RX_HEAD_END, psh: false, fin: false };
  /**
   * Event streams in time order: the NIC completes clones in ring order a fixed delay after
   * their last bit, the link delivers bursts a fixed delay after it, ACKs cross back after a
   * fixed delay (EventFifo: the same event order, a smaller heap).
   */
  private readonly txCompletions: EventFifo<TxState>;
  private readonly arrivals: EventFifo<Arrival>;
  private readonly acks: EventFifo<Ack>;
  private readonly rng: Rng;
  private rxWakePending = false;
  listener: FlowListener | null = null;
  /** The receiving application: bytes and recv() calls. */
  rxBytes = 0;
  rxCalls = 0;
  /** Segments sent, retransmitted, lost; ACKs processed; RTOs. */
  readonly stats = { segs: 0, retransSegs: 0, lostSegs: 0, acks: 0, rtos: 0, fastRetrans: 0, tlps: 0, tsqThrottles: 0, deferrals: 0, collapses: 0 };
  /** The user pages of the application's buffer, by page number (page identity, §1.4). */

  constructor(
    readonly q: EventQueue,
    readonly sk: Sock,
    readonly nic: Nic,
    readonly link: LinkParams,
    readonly cc: CongestionControl,
    readonly opts: FlowOptions,
  ) {
    this.rng = new Rng(link.seed * 7919 + sk.id);
    this.hdr = tcpIpHeader(opts.family);
    this.rxFragTruesize = rxFragTruesize(link.mtu);
    // tcp_mtu_to_mss() minus the timestamp option: 1500 -> 1448
    this.mss = link.mtu - this.hdr;
    this.gsoMax = sk_gso_max_size(sk, link.gso_max_size);
    this.snd_cwnd = opts.initcwnd;
    this.rto_ns = 1e9; // TCP_TIMEOUT_INIT until the first RTT sample
    this.wire = { transmit: () => {}, pcount: new SkbGsoSegs() };
    this.txCompletions = q.fifo(this.onTxCompletion);
    this.arrivals = q.fifo(this.onArrival);
    this.acks = q.fifo(this.onAck);
    this.rtxTimer = new Timer(q, () => this.tcp_write_timer_handler());
    this.delackTimer = new Timer(q, () => this.onDelack());
    this.rcv = this.makeReceiver();
    this.establish();
  }

  /**
   * The receiver's socket: SO_RCVBUF doubled and capped by rmem_max (sk_setsockopt, which locks
   * it), then its side of the handshake (tcp_init_receiver: the locked buffer clamps the window
   * and the scale, tcp_init_buffer_space()).
   */
  private makeReceiver(): RcvSock {
    const sysctl = this.sk.net.sysctl;
    const rmemMax = sysctl['net.core.wmem_max']; // the profiles keep rmem_max equal to wmem_max (212992 on 5.x, 4 MiB on 6.18)
    const locked = this.opts.rcvbuf !== null;
    const rcvbuf = locked ? Math.max(2 * Math.min(this.opts.rcvbuf!, rmemMax), 2304) : sysctl['net.ipv4.tcp_rmem'][1];
    const advmss = this.mss; // tp->advmss once the timestamp option is taken off
    const r = tcp_init_receiver(this.sk.profile.rcv, rcvbuf, locked, advmss, this.mss, sysctl['net.ipv4.tcp_rmem'][2], rmemMax);
    r.rcv_mss = Math.min(advmss, 536);
    r.senderUna = Number.MAX_SAFE_INTEGER; // a remote receiver's skbs are never the sender's clones
    r.rcvlowat = this.opts.rcvlowat;
    r.rto_ms = this.opts.rto_min_ns / 1e6; // the peer's RTO: its rto_min, at a microsecond RTT
    return r;
  }

  /** The handshake: snd_wnd from the SYN-ACK (unscaled), MSS, tcp_init_buffer_space() -> tcp_sndbuf_expand(). */
  private establish(): void {
    const sk = this.sk;
    sk.mss_clamp = this.mss + 12;
    sk.mss_cache = this.mss;
    sk.snd_wscale = this.rcv.rcv_wscale;
    sk.snd_wnd = Math.min(this.rcv.rcv_wnd, 65535);
    sk.max_window = sk.snd_wnd;
    if (!sk.sndbuf_locked) this.tcp_sndbuf_expand();
  }

  /** tcp_sndbuf_expand(): 2 * max(10, cwnd) * per-MSS truesize, capped by tcp_wmem[2]. */
  private tcp_sndbuf_expand(): void {
    const sk = this.sk;
    const perMss = roundupPowOfTwo(Math.max(sk.mss_clamp, sk.mss_cache) + sk.net.cfg.max_tcp_header + SKB_DATA_ALIGN(SIZEOF_SKB_SHARED_INFO)) + SKB_DATA_ALIGN(SIZEOF_SK_BUFF);
    const nrSegs = Math.max(10, this.snd_cwnd, 3 + 1);
    const sndmem = 2 * nrSegs * perMss;
    if (sk.sk_sndbuf < sndmem) sk.sk_sndbuf = Math.min(sndmem, sk.net.sysctl['net.ipv4.tcp_wmem'][2]);
  }

  // ---- SendHooks (tcp_sendmsg_locked's view of the transmit side) ----

  sizeGoal(sk: Sock): number {
    return tcp_xmit_size_goal(sk, this.mss, this.gsoMax);
  }

  /** forced_push() -> __tcp_push_pending_frames(TCP_NAGLE_PUSH), else tcp_push_one() for the send head. */
  skbFull(sk: Sock, skb: SkBuff): void {
    if (sk.write_seq > sk.pushed_seq + (sk.max_window >> 1)) {
      skb.psh = true;
      sk.pushed_seq = sk.write_seq;
      this.tcp_write_xmit(TCP_NAGLE_PUSH, 0);
    } else if (sk.write_queue[0] === skb) this.tcp_write_xmit(TCP_NAGLE_PUSH, 1); // tcp_push_one()
  }

  /**
   * tcp_push(): PSH unless MSG_MORE, autocork while clones are in the NIC, then
   * __tcp_push_pending_frames() with tp->nonagle, TCP_NAGLE_PUSH from wait_for_space
   * (`naglePush`), or TCP_NAGLE_CORK for MSG_MORE.
   */
  push(sk: Sock, more: boolean, naglePush = false): void {
    const skb = sk.writeQueueTail();
    if (skb === undefined || sk.write_queue.length === 0) return;
    if (!more || sk.write_seq > sk.pushed_seq + (sk.max_window >> 1)) {
      skb.psh = true;
      sk.pushed_seq = sk.write_seq;
    }
    if (this.tcp_should_autocork(skb)) {
      this.tsqThrottled = true;
      // refcount_read(&sk->sk_wmem_alloc) > skb->truesize (the refcount carries a bias of 1)
      if (sk.sk_wmem_alloc + 1 > skb.truesize) return;
    }
    this.tcp_write_xmit(more ? TCP_NAGLE_CORK : naglePush ? TCP_NAGLE_PUSH : tp_nonagle(sk), 0);
  }

  waitForSpace(): boolean {
    return false; // the workloads send with MSG_DONTWAIT and poll
  }

  /** No socket backlog on the link path: an ACK is its own event, processed when it arrives. */
  flushBacklog(): boolean {
    return false;
  }

  /** tcp_should_autocork(): a partial tail while the NIC still holds our clones (6.x: and it can take more, no EOR). */
  private tcp_should_autocork(skb: SkBuff): boolean {
    const sk = this.sk;
    return (
      skb.len < this.sizeGoal(sk) && sk.net.sysctl['net.ipv4.tcp_autocorking'] !== 0 && sk.rtx_queue.length > 0 &&
      sk.sk_wmem_alloc + 1 > skb.truesize && !(skb.eor && sk.profile.output.autocorkChecksEor)
    );
  }

  // ---- the transmit engine ----

  /** tcp_packets_in_flight() without SACK: packets_out - lost_out + retrans_out. */
  inFlight(): number {
    return this.sk.packets_out - this.lost_out + this.retrans_out;
  }

  /** sk_pacing_rate as tcp_update_pacing_rate() sets it: mss * cwnd / srtt, 200% in slow start, 120% after. */
  private pacingRate(): number {
    if (this.srtt_ns === 0) return Number.MAX_SAFE_INTEGER;
    const ratio = this.snd_cwnd < this.snd_ssthresh / 2 ? 2 : 1.2;
    return (ratio * this.mss * Math.max(this.snd_cwnd, this.sk.packets_out) * 1e9) / this.srtt_ns;
  }

  /** tcp_tso_autosize(): pacing_rate >> sk_pacing_shift (10) bytes, capped by sk_gso_max_size, at least 2 segments. */
  private tcp_tso_segs(): number {
    const bytes = Math.min(this.pacingRate() / 1024, this.gsoMax);
    return Math.max(Math.floor(bytes / this.mss), 2);
  }

  /** tcp_cwnd_test(): segments the cwnd allows now (at most half the cwnd in one go). */
  private tcp_cwnd_test(skb: SkBuff): number {
    if (skb.fin && skb.gso_segs === 1 && this.sk.profile.output.finIgnoresCwnd) return 1; // the final FIN (5.x)
    const inFlight = this.inFlight();
    const cwnd = this.snd_cwnd;
    if (inFlight >= cwnd) return 0;
    return Math.min(Math.max(cwnd >> 1, 1), cwnd - inFlight);
  }

  /**
   * tcp_small_queue_check(): throttle while sk_wmem_alloc exceeds max(2 truesize, pacing_rate >>
   * 10), capped by tcp_limit_output_bytes; but always send while the rtx queue is empty (6.x:
   * or holds a single skb).
   */
  private tcp_small_queue_check(skb: SkBuff): boolean {
    const sk = this.sk;
    const limit = Math.min(Math.max(2 * skb.truesize, this.pacingRate() / 1024), sk.net.sysctl['net.ipv4.tcp_limit_output_bytes']);
    if (sk.sk_wmem_alloc + 1 > limit) {
      if (sk.rtx_queue.length <= sk.profile.output.tsqSendsUpToRtxSkbs) return false;
      this.tsqThrottled = true;
      this.stats.tsqThrottles++;
      return true;
    }
    return false;
  }

  /** tcp_tso_should_defer(): wait for more window rather than send a small TSO burst when an ACK is due soon. */
  private tcp_tso_should_defer(skb: SkBuff, maxSegs: number): boolean {
    const sk = this.sk;
    if (this.ca_state !== 'open') return false;
    if (this.q.now - this.wstamp_ns > 1e6) return false; // no transmission in the last ms (tcp_wstamp_ns): avoid bursts
    const inFlight = this.inFlight();
    const sendWin = sk.snd_una + sk.snd_wnd - skb.seq;
    const congWin = (this.snd_cwnd - inFlight) * this.mss;
    const limit = Math.min(sendWin, congWin);
    if (limit >= maxSegs * this.mss) return false;
    if (skb !== sk.writeQueueTail() && limit >= skb.len) return false;
    const chunk = Math.floor(Math.min(sk.snd_wnd, this.snd_cwnd * this.mss) / 3); // tcp_tso_win_divisor = 3
    if (limit >= chunk) return false;
    const head = sk.rtx_queue.at(0);
    if (head === undefined) return false;
    // the ACK of the head is due srtt after it left; it is too late to wait for if due later than min(srtt / 2, cap)
    const howFar = (this.tx.get(head)?.sent ?? 0) + this.srtt_ns - this.q.now;
    if (howFar - Math.min(this.srtt_ns / 2, sk.profile.output.deferAckWaitCapNs) > 0) return false;
    // defer: cwnd-limited, rwnd-limited, or waiting for the application unless nothing more can join
    const defer = congWin < sendWin ? congWin <= skb.len : sendWin <= skb.len;
    if (defer && congWin < sendWin) this.cwndLimited = true;
    if (!defer && (skb.fin || skb.eor)) return false;
    this.stats.deferrals++;
    return true;
  }

  /** tcp_mss_split_point(): whole MSS within the window; Nagle may hold back the partial tail. */
  private tcp_mss_split_point(skb: SkBuff, maxSegs: number, nonagle: number): number {
    const sk = this.sk;
    const window = sk.snd_una + sk.snd_wnd - skb.seq;
    const maxLen = this.mss * maxSegs;
    if (maxLen <= window && skb !== sk.writeQueueTail()) return maxLen;
    const needed = Math.min(skb.len, window);
    if (maxLen <= needed) return maxLen;
    const partial = needed % this.mss;
    // tcp_nagle_check(partial != 0, ...)
    if (partial !== 0 && ((nonagle & TCP_NAGLE_CORK) !== 0 || (nonagle === 0 && sk.packets_out > 0 && sk.snd_sml > sk.snd_una))) return needed - partial;
    return needed;
  }

  /**
   * tcp_write_xmit(): send from the send head while cwnd, the receive window, Nagle, TSO
   * deferral and TSQ allow; split with tso_fragment() at the allowed length. `pushOne`: 1 for
   * tcp_push_one() (one skb, no deferral), 2 for a loss probe (one skb even past the cwnd).
   * Having sent, it schedules the loss probe (one per tail-loss episode: not for the probe).
   */
  tcp_write_xmit(nonagle: number, pushOne: 0 | 1 | 2): void {
    const sk = this.sk;
    const mss = this.mss;
    const maxSegs = this.tcp_tso_segs();
    let sent = 0;
    let cwndLimited = false;
    while (sk.write_queue.length > 0) {
      const skb = sk.write_queue[0];
      let quota = this.tcp_cwnd_test(skb);
      if (quota === 0) {
        if (pushOne === 2) quota = 1; // force out the loss probe
        else {
          cwndLimited = true;
          break;
        }
      }
      quota = Math.min(quota, maxSegs);
      if (sk.profile.growSkb) {
        const missing = quota * mss - skb.len;
        if (missing > 0) tcp_grow_skb(sk, skb, missing, this.wire);
      }
      const tsoSegs = tso_segs_of(skb, mss);
      this.wire.pcount.set(skb, tsoSegs);
      if (!tcp_snd_wnd_test(sk, skb, mss)) break;
      if (tsoSegs === 1) {
        if (!tcp_nagle_test(sk, skb, mss, sk.write_queue.length === 1 ? nonagle : TCP_NAGLE_PUSH)) break;
      } else if (pushOne === 0 && this.tcp_tso_should_defer(skb, maxSegs)) break;
      let limit = mss;
      if (tsoSegs > 1) limit = this.tcp_mss_split_point(skb, quota, nonagle);
      if (skb.len > limit) tso_fragment(sk, skb, limit, this.wire, mss);
      if (skb.end_seq === skb.seq) break;
      if (this.tcp_small_queue_check(skb)) break;
      this.tcp_event_new_data_sent(skb);
      sent++;
      if (pushOne !== 0) break;
    }
    if (this.inFlight() >= this.snd_cwnd) cwndLimited = true;
    if (sent > 0 || cwndLimited) this.tcp_cwnd_validate(cwndLimited);
    if (sent > 0 && pushOne !== 2) this.tcp_schedule_loss_probe(false);
  }

  /** tcp_cwnd_validate(): remember whether the flow used its window (tcp_is_cwnd_limited). */
  private tcp_cwnd_validate(cwndLimited: boolean): void {
    if (this.sk.packets_out > this.max_packets_out) this.max_packets_out = this.sk.packets_out;
    const inSlowStart = this.snd_cwnd < this.snd_ssthresh;
    this.cwndLimited = cwndLimited || (inSlowStart && this.snd_cwnd < 2 * this.max_packets_out);
  }

  /** tcp_event_new_data_sent() + tcp_minshall_update(), the clone goes to the NIC, the retransmit/probe timer is set. */
  private tcp_event_new_data_sent(skb: SkBuff): void {
    const sk = this.sk;
    sk.write_queue.shift();
    sk.rtx_queue.push(skb);
    sk.snd_nxt = skb.end_seq;
    const pc = this.wire.pcount.get(skb) ?? 1;
    const wasIdle = sk.packets_out === 0;
    sk.packets_out += pc;
    if (skb.len < pc * this.mss) sk.snd_sml = skb.end_seq;
    const st: TxState = { sent: this.q.now, lost: false, everRetrans: false, retransInFlight: false, inNic: 0, nicTruesize: 0 };
    this.tx.set(skb, st);
    this.transmit(skb, st, false);
    if (wasIdle || this.pending === 'tlp') this.rearmRto(); // the loss probe follows when tcp_write_xmit() is done
  }

  /**
   * __tcp_transmit_skb(): a clone charged to sk_wmem_alloc (tcp_wfree) goes into the NIC ring;
   * its TX completion frees the clone and runs the TSQ handler; the segments reach the receiver
   * one one-way delay after the last bit left, minus those the link loses.
   */
  private transmit(skb: SkBuff, st: TxState, retrans: boolean): void {
    const sk = this.sk;
    const truesize = skb.truesize;
    const segs = Math.max(1, Math.ceil(skb.len / this.mss));
    sk.sk_wmem_alloc += truesize;
    st.inNic++;
    st.nicTruesize = truesize;
    st.sent = this.q.now;
    this.wstamp_ns = this.q.now; // tcp_update_skb_after_send()
    this.stats.segs += segs;
    if (retrans) this.stats.retransSegs += segs;
    const wire = skb.len + segs * (this.hdr + ETH_WIRE_OVERHEAD);
    const done = this.nic.enqueue(this.q.now, wire);
    const seq = skb.seq;
    const end = skb.seq + skb.len; // the data; a FIN's sequence number is added by the receiver
    const len = skb.len;
    const fin = skb.fin;
    const psh = skb.psh;
    this.txCompletions.at(done + this.link.txc_delay_ns, st);
    // the link: per-segment loss (seeded), the rest arrives one-way later (GRO merges the burst)
    let lostFrom = -1;
    let lostTo = -1;
    if (this.link.loss > 0 && len > 0) {
      for (let i = 0; i < segs; i++) {
        if (this.rng.next() < this.link.loss) {
          if (lostFrom < 0) lostFrom = i;
          lostTo = i + 1;
          this.stats.lostSegs++;
        }
      }
    }
    const arrive = done + this.link.rtt_ns / 2;
    if (lostFrom < 0) {
      this.arrivals.at(arrive, this.arrival(seq, end, segs, fin, psh));
      return;
    }
    // deliver what survived as (at most) two bursts around the lost range
    const a = seq + lostFrom * this.mss;
    const b = Math.min(end, seq + lostTo * this.mss);
    if (a > seq) this.arrivals.at(arrive, this.arrival(seq, a, lostFrom, false, false));
    if (b < end) this.arrivals.at(arrive, this.arrival(b, end, segs - lostTo, fin, psh));
  }

  /** An Arrival record, from the free list when one is there. */
  private arrival(seq: number, end: number, segs: number, fin: boolean, psh: boolean): Arrival {
    const r = this.arrivalPool.pop();
    if (r === undefined) return { seq, end, segs, fin, psh };
    r.seq = seq;
    r.end = end;
    r.segs = segs;
    r.fin = fin;
    r.psh = psh;
    return r;
  }

  /**
   * The event of a burst reaching host B (pre-bound: no closure per event). The record itself
   * is handed on: sequence numbers past 2^31 passed one by one would each be boxed.
   */
  private readonly onArrival = (r: Arrival): void => {
    this.rxSegment(r);
    this.arrivalPool.push(r); // rxSegment() keeps nothing of it
  };

  /** The NIC's TX completion event for the clone of `st`. */
  private readonly onTxCompletion = (st: TxState): void => {
    this.tcp_wfree(st, st.nicTruesize);
  };

  /** tcp_wfree(): the NIC freed our clone; sk_wmem_alloc drops and a throttled flow resumes (tcp_tsq_handler). */
  private tcp_wfree(st: TxState, truesize: number): void {
    const sk = this.sk;
    sk.sk_wmem_alloc -= truesize;
    st.inNic--;
    if (this.tsqThrottled) {
      this.tsqThrottled = false;
      // tcp_tsq_write(): retransmits first, then new data
      if (this.lost_out > this.retrans_out) this.tcp_xmit_retransmit_queue();
      this.tcp_write_xmit(tp_nonagle(sk), 0);
    }
  }

  // ---- the receiver (host B) ----

  /** A GRO'd burst [seq, end) arrives: in order -> tcp_rcv_data(); out of order -> the ofo queue and an immediate dupack. */
  private rxSegment(arr: Arrival): void {
    const { seq, end, segs, fin, psh } = arr;
    const r = this.rcv;
    const len = end - seq;
    const truesize = SKB_TRUESIZE(RX_HEAD_END) + segs * this.rxFragTruesize;
    if (end <= r.rcv_nxt && !(fin && seq + len === r.rcv_nxt)) {
      // a retransmission of data already here (tcp_data_queue): quick-ACK mode, ACK at once
      tcp_enter_quickack_mode(r, TCP_MAX_QUICKACKS);
      r.ackScheduled = true;
      this.sendAck(tcp_send_ack(r));
      return;
    }
    if (seq > r.rcv_nxt) {
      // tcp_data_queue_ofo(): hold it, ACK at once (the dupack the sender counts)
      if (!this.ofo.some((o) => o.seq === seq)) {
        this.ofo.push({ seq, end, truesize });
        this.ofo.sort((x, y) => x.seq - y.seq);
        r.rmem_alloc += truesize;
      }
      this.sendAck(tcp_send_ack(r));
      return;
    }
    // tcp_rcv_data() reads the segment and keeps nothing of it: one scratch record per flow
    const s = this.rxSeg;
    s.seq = r.rcv_nxt;
    s.end_seq = end + (fin ? 1 : 0);
    s.len = end - r.rcv_nxt;
    s.truesize = truesize;
    s.seg_len = segs > 1 ? this.mss : len;
    s.nr_frags = segs;
    s.psh = psh;
    s.fin = fin;
    const nowMs = this.q.now / 1e6;
    let ack = tcp_rcv_data(r, s, nowMs, this.sk.net.sysctl['net.ipv4.tcp_rmem'][2], null);
    // tcp_ofo_queue(): the hole is filled, move what now fits in order
    let filled = false;
    while (this.ofo.length > 0 && this.ofo[0].seq <= r.rcv_nxt) {
      const o = this.ofo.shift()!;
      r.rmem_alloc -= o.truesize;
      if (o.end > r.rcv_nxt) {
        const s2: Segment = { seq: r.rcv_nxt, end_seq: o.end, len: o.end - r.rcv_nxt, truesize: o.truesize, seg_len: this.mss, nr_frags: 1, end_offset: RX_HEAD_END, psh: false, fin: false };
        ack = tcp_rcv_data(r, s2, nowMs, this.sk.net.sysctl['net.ipv4.tcp_rmem'][2], null) ?? ack;
      }
      filled = true;
    }
    // __tcp_ack_snd_check(): ACK at once while out-of-order data is held, and when the last hole
    // is filled (tcp_data_queue: ICSK_ACK_NOW once the ofo queue is empty)
    if ((filled || this.ofo.length > 0) && ack === null) ack = tcp_send_ack(r);
    if (ack !== null) this.sendAck(ack);
    else if (r.delackDueMs !== null) this.delackTimer.set(r.delackDueMs * 1e6);
    this.dataReady();
  }

  private onDelack(): void {
    const ack = tcp_delack_timer(this.rcv);
    if (ack !== null) this.sendAck(ack);
  }

  /** tcp_data_ready(): wake the reader once it can read (tcp_epollin_ready at SO_RCVLOWAT). */
  private dataReady(): void {
    if (this.opts.rx_auto === false) return;
    if (this.rxWakePending || !this.readable()) return;
    this.rxWakePending = true;
    this.q.after(this.opts.rx_wake_ns, this.rxRead);
  }

  /** poll(POLLIN) of the reader: tcp_epollin_ready() with the socket's rcvlowat (capped at rcvbuf / 2 by tcp_set_rcvlowat). */
  private readable(): boolean {
    const r = this.rcv;
    return tcp_epollin_ready(r, Math.min(this.opts.rcvlowat, r.rcvbuf >> 1));
  }

  /**
   * The reader, msg_zerocopy's do_rx(): do_flush_tcp() is one recv(NULL, 1 << 21, MSG_TRUNC |
   * MSG_DONTWAIT), and each recv ends in tcp_cleanup_rbuf() (an ACK when one is pending and more
   * than an MSS is unacknowledged, or the window at least doubles); then do_poll(POLLIN)
   * returns at once while the socket stays readable, else sleeps until tcp_data_ready().
   */
  private readonly rxRead = (): void => {
    this.rxWakePending = false;
    while (this.appRead(this.opts.rx_read_max) > 0 && this.readable());
  };

  /**
   * The receiving application reads up to `max` bytes now: tcp_recvmsg() (fully read skbs are
   * freed) and tcp_cleanup_rbuf() (an ACK if one is due or the window at least doubles).
   */
  appRead(max: number): number {
    const r = this.rcv;
    const n = tcp_recvmsg(r, max);
    if (n > 0) {
      this.rxBytes += n;
      this.rxCalls++;
    }
    const a = tcp_cleanup_rbuf(r, n);
    if (a !== null) this.sendAck(a);
    return n;
  }

  /** The ACK crosses the link back to the sender (pure ACKs are not lost in this model). */
  private sendAck(a: Ack): void {
    this.acks.after(this.link.rtt_ns / 2, a);
  }

  /** The ACK reaches the sender (pre-bound; the Ack record is the event's argument). */
  private readonly onAck = (a: Ack): void => {
    this.tcp_ack(a);
  };

  // ---- the sender's ACK processing ----

  /** tcp_rtt_estimator() + tcp_set_rto(): srtt, mdev, rto = srtt + max(4 mdev, rto_min). */
  private rttSample(m: number): void {
    if (this.srtt_ns === 0) {
      this.srtt_ns = m;
      this.mdev_ns = m / 2;
    } else {
      const err = m - this.srtt_ns;
      this.srtt_ns += err / 8;
      this.mdev_ns += (Math.abs(err) - this.mdev_ns) / 4;
    }
    this.rto_ns = this.srtt_ns + Math.max(4 * this.mdev_ns, this.opts.rto_min_ns);
  }

  /**
   * tcp_ack(): window update, then tcp_clean_rtx_queue() frees fully ACKed skbs
   * (tcp_wmem_free_skb: uncharge, release pages, drop the uarg reference -> completion) and
   * trims a partially ACKed head (tcp_trim_head); RTT sample (Karn), congestion control,
   * Reno dupack counting and recovery, timer rearm, tcp_data_snd_check() and tcp_check_space().
   */
  private tcp_ack(a: Ack): void {
    const { ack, win } = a;
    const sk = this.sk;
    this.stats.acks++;
    const prevUna = sk.snd_una;
    if (ack > sk.snd_nxt) return; // tcp_ack(): acks data we never sent
    let ackedPkts = 0;
    // the RTT sample is taken from the oldest skb this ACK covers, a partly ACKed head included
    // (tcp_clean_rtx_queue's first_ackt), and not at all if it covers retransmitted data (Karn)
    let rttFrom = -1;
    let retransAcked = false;
    // per-skb state of what this ACK frees (tcp_clean_rtx_queue's sacked bits)
    const rtx = sk.rtx_queue;
    for (let i = 0; i < rtx.length; i++) {
      const skb = rtx.at(i)!;
      const st = this.tx.get(skb);
      if (skb.end_seq > ack) {
        if (ack > skb.seq && st !== undefined && (this.wire.pcount.get(skb) ?? 1) > 1) {
          if (st.everRetrans) retransAcked = true;
          else if (rttFrom < 0) rttFrom = st.sent;
        }
        break;
      }
      if (st !== undefined) {
        if (st.lost) this.lost_out -= this.wire.pcount.get(skb) ?? 1;
        if (st.retransInFlight) this.retrans_out -= this.wire.pcount.get(skb) ?? 1;
        if (st.everRetrans) retransAcked = true;
        else if (rttFrom < 0) rttFrom = st.sent;
        this.tx.delete(skb);
      }
      ackedPkts += this.wire.pcount.get(skb) ?? 1;
    }
    if (retransAcked) rttFrom = -1;
    const dup = ack === prevUna && sk.packets_out > 0 && win === sk.snd_wnd;
    tcp_ack_clean(sk, a, this.wire, NO_SYNC_MSS); // keeps nothing of the record
    if (ack > prevUna) {
      if (ackedPkts === 0) ackedPkts = Math.max(1, Math.round((ack - prevUna) / this.mss));
      if (rttFrom >= 0) this.rttSample(this.q.now - rttFrom);
      this.backoff = 0;
      this.dupacks = 0;
      if (this.ca_state !== 'open' && ack >= this.high_seq) this.ca_state = 'open';
      else if (this.ca_state === 'recovery') this.retransmitHead(); // NewReno partial ACK
      // tcp_cong_control(): cwnd grows unless in a cwnd reduction (Recovery; PRR is not modelled:
      // cwnd stays at ssthresh), so after an RTO the Loss state slow-starts again
      if (this.ca_state !== 'recovery') this.cc.congAvoid(this, ackedPkts, this.q.now);
      if (sk.packets_out === 0) {
        this.lost_out = 0;
        this.retrans_out = 0;
      }
      this.tcp_set_xmit_timer();
    } else if (dup) {
      // a duplicate ACK (tcp_add_reno_sack); the third starts fast retransmit
      this.dupacks++;
      if (this.dupacks === 3 && this.ca_state === 'open') this.enterRecovery();
    }
    // tcp_data_snd_check(): push what the new window and cwnd allow
    if (this.lost_out > this.retrans_out) this.tcp_xmit_retransmit_queue();
    this.tcp_write_xmit(tp_nonagle(sk), 0);
    // tcp_check_space(): with SOCK_NOSPACE set, tcp_new_space() grows an unlocked sndbuf and
    // sk_stream_write_space() wakes the writer once the socket is writeable; completions queued
    // by this ACK have woken the poller already (sk_error_report)
    if (sk.nospace) {
      if (!sk.sndbuf_locked && this.tcp_should_expand_sndbuf()) this.tcp_sndbuf_expand();
      if (sk_stream_is_writeable(sk)) {
        sk.nospace = false;
        this.listener?.wake();
      }
    }
    if (sk.error_queue.length > 0) this.listener?.wake();
  }

  /** tcp_should_expand_sndbuf(): not under pressure, below tcp_mem[0], and cwnd not yet filled. */
  private tcp_should_expand_sndbuf(): boolean {
    const proto = this.sk.net.proto;
    if (proto.memory_pressure) return false;
    if (proto.memory_allocated >= proto.tcp_mem[0]) return false;
    return this.inFlight() < this.snd_cwnd;
  }

  /** tcp_enter_recovery() (Reno): ssthresh from the CC, cwnd = ssthresh, retransmit the head. */
  private enterRecovery(): void {
    this.snd_ssthresh = this.cc.ssthresh(this);
    this.snd_cwnd = Math.max(this.snd_ssthresh, 2);
    this.ca_state = 'recovery';
    this.high_seq = this.sk.snd_nxt;
    this.stats.fastRetrans++;
    this.retransmitHead();
  }

  /** Mark the rtx head lost and retransmit it (tcp_mark_head_lost + tcp_xmit_retransmit_queue). */
  private retransmitHead(): void {
    const head = this.sk.rtx_queue.at(0);
    if (head === undefined) return;
    const st = this.tx.get(head);
    if (st === undefined || st.retransInFlight) return;
    if (!st.lost) {
      st.lost = true;
      this.lost_out += this.wire.pcount.get(head) ?? 1;
    }
    this.tcp_xmit_retransmit_queue();
  }

  /**
   * tcp_xmit_retransmit_queue(): lost skbs in order, not those already out again, while the cwnd
   * has room (segs = cwnd - in flight, at most tcp_tso_segs()) and lost_out exceeds retrans_out;
   * one that cannot go now (still in the host queue, outside the window) stops it. Sending the
   * head again restarts the RTO from now.
   */
  private tcp_xmit_retransmit_queue(): void {
    const sk = this.sk;
    const maxSegs = this.tcp_tso_segs();
    let rearm = false;
    for (let i = 0; i < sk.rtx_queue.length; i++) {
      const skb = sk.rtx_queue.at(i)!;
      const segs = Math.min(this.snd_cwnd - this.inFlight(), maxSegs);
      if (segs <= 0 || this.retrans_out >= this.lost_out) break;
      const st = this.tx.get(skb);
      if (st === undefined || !st.lost || st.retransInFlight) continue;
      if (!this.__tcp_retransmit_skb(i, skb, st, segs)) break;
      // tcp_retransmit_skb(): TCPCB_RETRANS | TCPCB_SACKED_RETRANS, retrans_out
      st.retransInFlight = true;
      st.everRetrans = true;
      this.retrans_out += this.wire.pcount.get(skb) ?? 1;
      if (i === 0) rearm = true;
    }
    if (rearm) {
      this.pending = 'rto'; // tcp_reset_xmit_timer(ICSK_TIME_RETRANS, icsk_rto)
      this.rtxTimer.set(this.q.now + this.rto_ns * (1 << this.backoff));
    }
  }

  /**
   * __tcp_retransmit_skb(): not while a clone is still in the host queue; at most `segs` MSS
   * within the offered window (a window shrunk to nothing still lets the head out as a probe):
   * a longer skb is cut with tcp_fragment() in the retransmit queue (a new forced head, as
   * tso_fragment), a shorter one collapses its successors into itself up to one MSS. Returns
   * false when nothing could be sent.
   */
  private __tcp_retransmit_skb(i: number, skb: SkBuff, st: TxState, segs: number): boolean {
    const sk = this.sk;
    const mss = this.mss;
    if (st.inNic > 0) return false; // skb_still_in_host_queue(): -EBUSY
    // a partly ACKed head was trimmed when the ACK came (tcp_ack -> tcp_trim_head)
    let avail = sk.snd_una + sk.snd_wnd - skb.seq;
    if (avail <= 0) {
      if (skb.seq !== sk.snd_una) return false; // -EAGAIN: out of the shrunk window
      avail = mss;
    }
    let len = mss * segs;
    if (len > avail) {
      len = Math.floor(avail / mss) * mss;
      if (len === 0) len = avail;
    }
    if (skb.len > len) this.tcp_fragment_rtx(skb, st, len);
    else {
      // tcp_set_skb_tso_segs() and tcp_adjust_pcount(); then collapse into at most one MSS
      const before = this.wire.pcount.get(skb) ?? 1;
      const after = tso_segs_of(skb, mss);
      if (before !== after) this.tcp_adjust_pcount(st, before - after);
      this.wire.pcount.set(skb, after);
      const space = Math.min(avail, mss);
      if (skb.len < space) this.tcp_retrans_try_collapse(i, skb, space);
    }
    this.transmit(skb, st, true);
    return true;
  }

  /**
   * tcp_fragment(TCP_FRAG_IN_RTX_QUEUE): cut a sent skb at `len` for its retransmission; the new
   * half follows it in the retransmit queue with the same sacked bits and send time, and the
   * packet counts are fixed up if the two halves count differently (tcp_adjust_pcount).
   */
  private tcp_fragment_rtx(skb: SkBuff, st: TxState, len: number): void {
    const old = this.wire.pcount.get(skb) ?? 1;
    const buff = tso_fragment(this.sk, skb, len, this.wire, this.mss, 'rtx');
    this.tx.set(buff, { sent: st.sent, lost: st.lost, everRetrans: st.everRetrans, retransInFlight: st.retransInFlight, inNic: 0, nicTruesize: 0 });
    const diff = old - (this.wire.pcount.get(skb) ?? 1) - (this.wire.pcount.get(buff) ?? 1);
    if (diff !== 0) this.tcp_adjust_pcount(st, diff);
  }

  /** tcp_adjust_pcount(): `decr` fewer packets of an skb in packets_out and in the counts its sacked bits (`st`) put it in. */
  private tcp_adjust_pcount(st: TxState, decr: number): void {
    this.sk.packets_out -= decr;
    if (st.lost) this.lost_out -= decr;
    if (st.retransInFlight) this.retrans_out -= decr;
  }

  /**
   * tcp_retrans_try_collapse() (5.17 and 6.18 alike): while one-segment skbs follow that are not
   * in the host queue (tcp_can_collapse), may join (tcp_skb_can_collapse: no EOR, both or neither
   * pure), fit `space` (the window, at most one MSS) and the window, tcp_collapse_retrans() moves
   * their bytes into `to` with skb_shift() (which refuses zerocopy skbs and a frag overflow; the
   * truesize moves with the bytes) and frees what is left of them (tcp_wmem_free_skb).
   */
  private tcp_retrans_try_collapse(i: number, to: SkBuff, space: number): void {
    const sk = this.sk;
    const tst = this.tx.get(to);
    if ((this.wire.pcount.get(to) ?? 1) !== 1 || tst === undefined || tst.inNic > 0 || to.eor) return;
    let room = space - to.len;
    for (;;) {
      const next = sk.rtx_queue.at(i + 1);
      if (next === undefined || (this.wire.pcount.get(next) ?? 1) !== 1) return;
      const nst = this.tx.get(next);
      if (nst === undefined || nst.inNic > 0) return; // skb_cloned(): its clone is still in the NIC
      if (to.eor || to.pure !== next.pure) return;
      room -= next.len;
      if (room < 0) return;
      if (next.end_seq > sk.snd_una + sk.snd_wnd) return;
      if (next.len > 0 && !skb_shift(to, next, next.len)) return;
      // tcp_collapse_retrans()
      to.end_seq = next.end_seq;
      to.fin ||= next.fin;
      to.psh ||= next.psh;
      to.eor = next.eor;
      if (nst.everRetrans) tst.everRetrans = true;
      sk.rtx_queue.removeAt(i + 1);
      this.tcp_adjust_pcount(nst, this.wire.pcount.get(next) ?? 1);
      this.tx.delete(next);
      this.wire.pcount.delete(next);
      tcp_wmem_free_skb(sk, next);
      this.stats.collapses++;
    }
  }

  // ---- timers ----

  /**
   * tcp_rearm_rto(): with packets out, the RTO from now, or while a loss probe is pending from
   * the send time of the retransmit queue's head (tcp_rto_delta_us); with none, the work is
   * cleared but the timer stays armed (5.x has no INET_CSK_CLEAR_TIMERS, nor does 6.18).
   */
  private rearmRto(): void {
    if (this.sk.packets_out === 0) {
      this.pending = 0;
      return;
    }
    const rto = this.rto_ns * (1 << this.backoff); // backoff <= 15: a shift, not Math.pow
    const at = this.pending === 'tlp' ? Math.max(this.q.now + 1e3, this.headSent() + rto) : this.q.now + rto;
    this.pending = 'rto';
    this.rtxTimer.set(at);
  }

  /** skb_mstamp_ns of the retransmit queue's head (tcp_skb_timestamp_us), or now. */
  private headSent(): number {
    const head = this.sk.rtx_queue.at(0);
    const st = head === undefined ? undefined : this.tx.get(head);
    return st === undefined ? this.q.now : st.sent;
  }

  /**
   * tcp_schedule_loss_probe(): none with nothing in flight or outside Open (the connection
   * has SACK, as Linux negotiates by default); PTO = 2 srtt + TCP_TIMEOUT_MIN (+ RTO_MIN with
   * one packet out; TCP_TIMEOUT_INIT before an RTT sample), but no later than the RTO: a full
   * RTO from now after an ACK (`advancingRto`), else what is left of the head's.
   */
  private tcp_schedule_loss_probe(advancingRto: boolean): boolean {
    const sk = this.sk;
    if (sk.packets_out === 0 || this.ca_state !== 'open') return false;
    // with one packet out, RTO_MIN on top: the route's (6.x tcp_rto_min()) or the 200 ms constant (5.x)
    const rtoMin = sk.profile.output.tlpAddsRouteRtoMin ? this.opts.rto_min_ns : TCP_RTO_MIN_NS;
    let timeout = this.srtt_ns === 0 ? TCP_TIMEOUT_INIT_NS : 2 * this.srtt_ns + (sk.packets_out === 1 ? rtoMin : TCP_TIMEOUT_MIN_NS);
    const rto = this.rto_ns * (1 << this.backoff);
    const rtoDelta = advancingRto ? rto : this.headSent() + rto - this.q.now;
    if (rtoDelta > 0) timeout = Math.min(timeout, rtoDelta);
    this.pending = 'tlp';
    this.rtxTimer.set(this.q.now + timeout);
    return true;
  }

  /** tcp_set_xmit_timer(): after an ACK, a loss probe if possible, else the RTO. */
  private tcp_set_xmit_timer(): void {
    if (!this.tcp_schedule_loss_probe(true)) this.rearmRto();
  }

  /**
   * tcp_write_timer_handler(): the loss probe or the RTO; with nothing pending (the work was
   * cleared when everything was ACKed) it only reaches `out:`, where 5.x calls sk_mem_reclaim().
   */
  private tcp_write_timer_handler(): void {
    const sk = this.sk;
    const what = this.pending;
    if (what === 'tlp' && sk.packets_out > 0) this.tcp_send_loss_probe();
    else if (what === 'rto' && sk.packets_out > 0) {
      this.pending = 0;
      this.tcp_retransmit_timer();
    } else this.pending = 0;
    if (sk.profile.mem.timerReclaim) sk_mem_reclaim(sk);
  }

  /**
   * tcp_send_loss_probe(): new data if the window allows (tcp_write_xmit push_one 2, past the
   * cwnd), else the last skb again; a probe sent clears the pending work so that the RTO
   * restarts from now, none sent leaves it counting from the head's send time.
   */
  private tcp_send_loss_probe(): void {
    const sk = this.sk;
    this.stats.tlps++;
    const before = sk.packets_out;
    const head = sk.write_queue[0];
    let sent = false;
    if (head !== undefined && tcp_snd_wnd_test(sk, head, this.mss)) {
      this.tcp_write_xmit(TCP_NAGLE_OFF, 2);
      sent = sk.packets_out > before;
    } else {
      // the last MSS of the last skb again (cut off with tcp_fragment), by __tcp_retransmit_skb()
      let i = sk.rtx_queue.length - 1;
      let last = sk.rtx_queue.at(i);
      let st = last === undefined ? undefined : this.tx.get(last);
      if (last !== undefined && st !== undefined && st.inNic === 0) {
        const pcount = this.wire.pcount.get(last) ?? 1;
        if (pcount > 1 && last.len > (pcount - 1) * this.mss) {
          this.tcp_fragment_rtx(last, st, (pcount - 1) * this.mss);
          i++;
          last = sk.rtx_queue.at(i)!;
          st = this.tx.get(last)!;
        }
        if (this.__tcp_retransmit_skb(i, last, st, 1)) {
          st.everRetrans = true;
          sent = true;
        }
      }
    }
    if (sent) this.pending = 0;
    this.rearmRto();
  }

  /** tcp_retransmit_timer() -> tcp_enter_loss(): everything out is lost, cwnd 1, back off, retransmit the head. */
  private tcp_retransmit_timer(): void {
    const sk = this.sk;
    this.stats.rtos++;
    // tcp_enter_loss(): ssthresh is cut once per episode, not again on a repeated timeout
    if (this.ca_state === 'open' || this.high_seq <= sk.snd_una || (this.ca_state === 'loss' && this.backoff === 0)) {
      this.snd_ssthresh = this.cc.ssthresh(this);
      this.cc.onLoss(this.q.now);
    }
    this.snd_cwnd = 1; // packets in flight (none: all marked lost) + 1
    this.snd_cwnd_cnt = 0;
    this.ca_state = 'loss';
    this.high_seq = sk.snd_nxt;
    this.lost_out = 0;
    this.retrans_out = 0;
    for (const skb of sk.rtx_queue) {
      const st = this.tx.get(skb);
      if (st === undefined) continue;
      st.lost = true;
      st.retransInFlight = false;
      this.lost_out += this.wire.pcount.get(skb) ?? 1;
    }
    this.backoff = Math.min(this.backoff + 1, 15);
    this.tcp_xmit_retransmit_queue();
    this.rearmRto();
  }
}
