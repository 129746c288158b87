// Connection setup of a loopback pair and the receiver's reads.
// Mirrors (6.18 bd3afa6f0) net/ipv4/tcp_minisocks.c tcp_openreq_init_rwin() and
// tcp_create_openreq_child(), net/ipv4/tcp_input.c tcp_init_buffer_space(), net/core/sock.c
// sk_setsockopt(SO_RCVBUF), net/ipv4/tcp.c tcp_recvmsg_locked() (queue memory freed as skbs
// are consumed), __tcp_cleanup_rbuf() and __tcp_sock_set_quickack(). Written from the kernel
// source, not copied.
import type { Sock } from '../model/sock.ts';
import type { RcvWindowPolicy } from '../profiles/types.ts';
import { __tcp_select_window, tcp_full_space, tcp_receive_window, tcp_select_initial_window } from './tcp_output.ts';
import { RcvSock, tcp_send_ack, type Ack } from './tcp_input.ts';

/** SOCK_MIN_RCVBUF = 2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff)) (include/net/sock.h, 6.18). */
const SOCK_MIN_RCVBUF = 2048 + 256;
/** sysctl_tcp_app_win default. */
const TCP_APP_WIN = 31;

export interface RcvOptions {
  /** SO_RCVBUF on the listener, if any. */
  rcvbuf?: number;
  rmem: [number, number, number];
  /** net.core.rmem_max (SO_RCVBUF cap; also in the window scale choice). */
  rmemMax: number;
  /** The receiver's advmss (the path MSS with timestamps: what it sends in its SYN-ACK). */
  advmss: number;
}

/**
 * The handshake of a loopback pair, for the window state it leaves:
 * the listener's sk_rcvbuf (tcp_rmem[1], or SO_RCVBUF doubled, capped by rmem_max, locked);
 * tcp_openreq_init_rwin(): full_space = tcp_full_space() (the version's tcp_win_from_space), a
 * locked receive buffer clamps the window, tcp_select_initial_window() rounds the offer to the
 * MSS and picks the scale; the child starts with rcv_ssthresh = rcv_wnd and
 * tcp_init_buffer_space() clamps window_clamp to the full space (tcp_app_win reserve).
 * The sender takes the SYN-ACK's (unscaled) window as snd_wnd and max_window and the
 * receiver's scale as snd_wscale.
 */
export function tcp_connect_loopback(sk: Sock, o: RcvOptions, mss_clamp: number): RcvSock {
  const locked = o.rcvbuf !== undefined;
  const rcvbuf = locked ? Math.max(Math.min(o.rcvbuf!, o.rmemMax) * 2, SOCK_MIN_RCVBUF) : o.rmem[1];
  const r = tcp_init_receiver(sk.profile.rcv, rcvbuf, locked, o.advmss, o.advmss, o.rmem[2], o.rmemMax);
  // the sender (tcp_rcv_synsent_state_process -> tcp_ack_update_window on the SYN-ACK)
  const synWin = Math.min(r.rcv_wnd, 65535);
  sk.snd_wnd = synWin;
  sk.max_window = synWin;
  sk.snd_wscale = r.rcv_wscale;
  sk.mss_clamp = mss_clamp;
  sk.gso_segs = 0;
  return r;
}

/**
 * The receiving end of the handshake (tcp_openreq_init_rwin() then tcp_init_buffer_space()):
 * full_space = tcp_full_space() (6.x: at the default scaling ratio; 5.x: half); a locked receive buffer
 * (SO_RCVBUF) clamps the window to it; tcp_select_initial_window() rounds the offer to the MSS
 * (`windowMss`: advmss less the timestamp option) and picks the scale; rcv_ssthresh starts at
 * rcv_wnd; the clamp is then cut to the full space less the tcp_app_win reserve and one advmss.
 */
export function tcp_init_receiver(
  policy: RcvWindowPolicy, rcvbuf: number, locked: boolean, advmss: number, windowMss: number, rmem2: number, rmemMax: number,
): RcvSock {
  const r = new RcvSock(rcvbuf, locked, advmss, policy);
  const full = tcp_full_space(r);
  const clamp = locked ? full : 0;
  const init = tcp_select_initial_window(full, windowMss, clamp, rmem2, rmemMax, policy.initialWindowMax);
  r.rcv_wnd = init.rcv_wnd;
  r.window_clamp = init.window_clamp;
  r.rcv_wscale = init.rcv_wscale;
  r.rcv_ssthresh = init.rcv_wnd;
  // tcp_init_buffer_space(), with advmss as it is at that point of the handshake
  const advmssNow = policy.clampAdvmssHasTimestamps ? advmss + 12 : advmss;
  const maxwin = tcp_full_space(r);
  if (r.window_clamp >= maxwin) {
    r.window_clamp = maxwin;
    if (maxwin > 4 * advmssNow) r.window_clamp = Math.max(maxwin - (maxwin >> TCP_APP_WIN), 4 * advmssNow);
  }
  if (r.window_clamp > 2 * advmssNow && r.window_clamp + advmssNow > maxwin) r.window_clamp = Math.max(2 * advmssNow, maxwin - advmssNow);
  r.rcv_ssthresh = Math.min(r.rcv_ssthresh, r.window_clamp);
  return r;
}

/**
 * tcp_recvmsg(): copy up to `bytes` in order; skbs fully consumed are freed (rmem -= their
 * truesize, tcp_eat_recv_skb). Receive-buffer autotuning (tcp_rcv_space_adjust) is not
 * modelled: scenarios that read pin the receive buffer with connection.receiver.rcvbuf.
 */
export function tcp_recvmsg(r: RcvSock, bytes: number): number {
  const n = Math.min(bytes, r.rcv_nxt - r.copied_seq - (r.finReceived ? 1 : 0));
  if (n <= 0) return 0;
  r.copied_seq += n;
  while (r.queue.length > 0 && r.queue[0].end_seq <= r.copied_seq) {
    r.rmem_alloc -= r.queue[0].truesize;
    r.queue.shift();
  }
  return n;
}

/**
 * __tcp_cleanup_rbuf(): ACK now if an ACK is pending and more than one MSS is unacknowledged,
 * or the read emptied the queue after a pushed segment (not in pingpong mode); or if the read
 * at least doubled a window that had shrunk to half the clamp or less.
 */
export function tcp_cleanup_rbuf(r: RcvSock, copied: number): Ack | null {
  let timeToAck = false;
  if (r.ackScheduled) {
    if (r.rcv_nxt - r.rcv_wup > r.rcv_mss || (copied > 0 && (r.pushed2 || (r.pushed && !r.pingpong)) && r.rmem_alloc === 0)) timeToAck = true;
  }
  if (copied > 0 && !timeToAck && !r.finReceived) {
    const now = tcp_receive_window(r);
    if (2 * now <= r.window_clamp) {
      const nw = __tcp_select_window(r);
      if (nw && nw >= 2 * now) timeToAck = true;
    }
  }
  return timeToAck ? tcp_send_ack(r) : null;
}

/** __tcp_sock_set_quickack(sk, 1): leave pingpong; a scheduled ACK is pushed out through tcp_cleanup_rbuf(sk, 1). */
export function tcp_sock_set_quickack(r: RcvSock): Ack | null {
  r.pingpong = false;
  if (!r.ackScheduled) return null;
  r.pushed = true;
  return tcp_cleanup_rbuf(r, 1);
}

