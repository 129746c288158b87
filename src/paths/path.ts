// What the step runner (src/backends/model/run.ts) needs of the path between the sender and its
// peer: the transmit side tcp_sendmsg_locked() calls (SendHooks), connection establishment for
// the scenario's `connection:`, and the receiver / time operations the steps drive. Two paths
// implement it: loopback (src/paths/loopback.ts) and link (src/paths/link_steps.ts, the event
// engine's LinkFlow between two modelled hosts).
import type { Sock } from '../model/sock.ts';
import type { SendHooks } from '../model/tcp_sendmsg.ts';
import type { SocketLock } from '../model/syscalls.ts';
import type { NetSysctls } from '../profiles/types.ts';
import type { Connection } from '../scenario/schema.ts';
import type { CoalesceObserver } from './loopback.ts';

export interface Path extends SendHooks, SocketLock {
  readonly kind: 'loopback' | 'link';
  /** Receive-side skb_try_coalesce() observers (checkers); a remote receiver never calls them. */
  readonly coalesceObservers: CoalesceObserver[];
  /** The handshake for `conn`: MSS, windows, tcp_sndbuf_expand(), the `start:` state. */
  establish(sk: Sock, conn: Connection, sysctl: NetSysctls): void;
  /** `sleep {ms}`: simulated time passes (timers, ACKs in flight). */
  advance(sk: Sock, ms: number): void;
  /** `drain`: the receiver reads everything until the sender's queue is empty (or nothing can change). */
  drain(sk: Sock): void;
  /** `recv {bytes}`: the receiving application reads; returns the bytes read. */
  recv(sk: Sock, bytes: number): number;
  /** The FIN is acknowledged: a closed (orphaned) sender goes away. */
  finAcked(sk: Sock): boolean;
  /** connect(AF_UNSPEC) happened: the peer and everything in flight are gone. */
  disconnected(sk: Sock): void;
}
