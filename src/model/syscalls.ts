// The system-call entry points around tcp_sendmsg_locked(): tcp_sendmsg() (net/ipv4/tcp.c:
// lock_sock(), tcp_sendmsg_locked(), release_sock()) and sendfile()'s splice loop (fs/splice.c:
// splice_to_socket() on 6.5+, pipe_to_sendpage() -> do_tcp_sendpages() on 5.x), 5.15 .. 6.18.
import { PAGE_SIZE } from './skb_geometry.ts';
import type { Sock } from './sock.ts';
import { tcp_sendmsg_locked, type SendHooks, type SendMsg } from './tcp_sendmsg.ts';
import { IovIter } from './zerocopy.ts';

/** The socket lock as the path sees it: ACKs that arrive while it is held wait in the backlog. */
export interface SocketLock {
  /** lock_sock() */
  lock(sk: Sock): void;
  /** release_sock(): the backlog runs (ACKs may free skbs and send more). */
  release(sk: Sock): void;
}

/** PIPE_DEF_BUFFERS: the pages a splice pipe carries per round (fs/splice.c, include/linux/pipe_fs_i.h). */
const PIPE_DEF_BUFFERS = 16;

/** tcp_sendmsg(): one sendmsg() system call. Returns bytes accepted or a negative errno. */
export function tcp_sendmsg(sk: Sock, msg: SendMsg, path: SendHooks & SocketLock): number {
  path.lock(sk);
  try {
    return tcp_sendmsg_locked(sk, msg, path);
  } finally {
    path.release(sk);
  }
}

/**
 * sendfile() of `len` bytes at file offset `off` (file pages at virtual page numbers from
 * `fileBase`): one call per profile.splicePagesPerCall pages, MSG_MORE while more follows.
 * Returns the bytes sent (a short count when a call sent less), or a negative errno when the
 * first call failed.
 */
export function splice_file_to_socket(sk: Sock, path: SendHooks & SocketLock, fileBase: number, off: number, len: number, dontwait: boolean): number {
  const perCall = sk.profile.splicePagesPerCall * PAGE_SIZE;
  let left = len;
  let total = 0;
  // 5.x pipe_to_sendpage(): one call per page, MSG_SENDPAGE_NOTLAST on every page but the last
  // of the pipe's batch (PIPE_DEF_BUFFERS pages), so only that one ends in tcp_push()
  let inPipe = 0;
  while (left > 0) {
    const batch = Math.min(left, Math.floor(off / PAGE_SIZE) * PAGE_SIZE + perCall - off);
    inPipe += sk.profile.splicePagesPerCall;
    const notLast = left > batch && inPipe % PIPE_DEF_BUFFERS !== 0;
    const iov = new IovIter([{ addr: fileBase + off, len: batch }]);
    const ret = tcp_sendmsg(sk, { iov, zerocopy: false, splice: true, more: left > batch, eor: false, dontwait, notLast }, path);
    if (ret < 0) return total === 0 ? ret : total;
    total += ret;
    off += ret;
    left -= ret;
    if (ret < batch) break;
  }
  return total;
}
