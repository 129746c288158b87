// Reads a TCP socket's state through NETLINK_SOCK_DIAG (what `ss -tm` uses), for the sender
// after `close`: the orphan has no fd any more but stays in the established hash, charged,
// until its data is gone. One exact lookup by 4-tuple (no dump), in the caller's namespace.
import { AF_INET, AF_NETLINK, SOCK_RAW, close, recv, send, socket } from './libc.ts';
import type { Meminfo } from '../../scenario/observation.ts';

const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 1;
const NLMSG_ERROR = 2;
const INET_DIAG_INFO = 2;
const INET_DIAG_SKMEMINFO = 7;
const IPPROTO_TCP = 6;
const TCPI_NOTSENT_BYTES = 144;

export interface DiagState {
  meminfo: Meminfo;
  /** idiag_wqueue: write_seq - snd_una (as SIOCOUTQ). */
  outq: number;
  /** tcpi_notsent_bytes: write_seq - snd_nxt (as SIOCOUTQNSD). */
  unsent: number;
  state: number;
}

export class SockDiag {
  private readonly fd: number;
  private seq = 0;
  private readonly rx = Buffer.alloc(65536);

  constructor() {
    this.fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
  }

  static open(): SockDiag {
    return new SockDiag();
  }

  /**
   * State of the TCP socket with this local and remote port on the loopback address of
   * `family`, or null when no full socket exists any more (gone, or only a TIME_WAIT mini socket).
   */
  lookup(family: number, localPort: number, remotePort: number): DiagState | null {
    const req = Buffer.alloc(16 + 56);
    req.writeUInt32LE(req.length, 0);
    req.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4);
    req.writeUInt16LE(NLM_F_REQUEST, 6);
    req.writeUInt32LE(++this.seq, 8);
    const r = 16;
    req[r] = family;
    req[r + 1] = IPPROTO_TCP;
    req[r + 2] = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_SKMEMINFO - 1));
    req.writeUInt32LE(0xffffffff, r + 4); // all states
    const id = r + 8;
    req.writeUInt16BE(localPort, id);
    req.writeUInt16BE(remotePort, id + 2);
    if (family === AF_INET) {
      req.set([127, 0, 0, 1], id + 4);
      req.set([127, 0, 0, 1], id + 20);
    } else {
      req[id + 4 + 15] = 1;
      req[id + 20 + 15] = 1;
    }
    req.writeUInt32LE(0xffffffff, id + 40); // INET_DIAG_NOCOOKIE
    req.writeUInt32LE(0xffffffff, id + 44);
    if (send(this.fd, req) !== req.length) throw new Error('sock_diag: send failed');
    const n = recv(this.fd, this.rx, this.rx.length, 0);
    if (n < 16) throw new Error(`sock_diag: recv returned ${n}`);
    const type = this.rx.readUInt16LE(4);
    if (type === NLMSG_ERROR) {
      const err = this.rx.readInt32LE(16);
      if (err === -2) return null; // ENOENT: the socket is gone
      throw new Error(`sock_diag: error ${err}`);
    }
    const len = this.rx.readUInt32LE(0);
    const msg = 16;
    const state = this.rx[msg + 1];
    const wqueue = this.rx.readUInt32LE(msg + 60);
    let meminfo: Meminfo | null = null;
    let unsent: number | null = null;
    for (let a = msg + 72; a + 4 <= len; ) {
      const alen = this.rx.readUInt16LE(a);
      const atype = this.rx.readUInt16LE(a + 2);
      if (alen < 4) break;
      if (atype === INET_DIAG_SKMEMINFO) meminfo = decodeMeminfo(this.rx.subarray(a + 4, a + alen));
      if (atype === INET_DIAG_INFO && alen - 4 >= TCPI_NOTSENT_BYTES + 4) unsent = this.rx.readUInt32LE(a + 4 + TCPI_NOTSENT_BYTES);
      a += (alen + 3) & ~3;
    }
    // a TIME_WAIT/FIN_WAIT2 mini socket has no memory of its own: report it as gone
    if (!meminfo) return null;
    return { meminfo, outq: wqueue, unsent: unsent ?? 0, state };
  }

  close(): void {
    close(this.fd);
  }
}

/** SO_MEMINFO / INET_DIAG_SKMEMINFO: u32[SK_MEMINFO_VARS] in SK_MEMINFO order, fwd_alloc signed. */
export function decodeMeminfo(b: Buffer): Meminfo {
  const u = (i: number) => b.readUInt32LE(i * 4);
  return {
    rmem_alloc: u(0),
    rcvbuf: u(1),
    wmem_alloc: u(2),
    sndbuf: u(3),
    fwd_alloc: b.readInt32LE(16),
    wmem_queued: u(5),
    optmem: u(6),
    backlog: u(7),
    drops: u(8),
  };
}

