// Runs one scenario on the live kernel: a private network namespace, a receiver that never
// reads unless a step says so, a sender whose pages are charged to a child memory cgroup of
// its own, and raw syscalls for every step. Method: ../shared/reference/live-kernel-method.md.
import { EnvironmentError, UsageError } from '../../cli/errors.ts';
import type { LoadedScenario } from '../../scenario/parse.ts';
import type { Connection, Scenario, SendArgs, SendfileArgs, SenderOptions, Step } from '../../scenario/schema.ts';
import type {
  Meminfo, Notification, Observation, StateFields, StepObservation, StepResult,
} from '../../scenario/observation.ts';
import { checkExpectations } from '../../scenario/expect.ts';
import * as c from './libc.ts';
import { Journal, sweepStale, uniqueName, withJournal } from './cleanup.ts';
import { NetNs, applySysctls } from './netns.ts';
import { Memcg, ownMemcg } from './memcg.ts';
import { SendBuffers } from './buffers.ts';
import { SockDiag, decodeMeminfo } from './sockdiag.ts';
import { SkbTracer, tracefsRoot } from './tracefs.ts';
import { maxTcpHeader } from './kernel_info.ts';
import { liveAvailable } from './available.ts';
import { release } from 'node:os';
import { dirname } from 'node:path';

/** How long drain/recv/zero-window waits for the kernel before giving up. */
const WAIT_MS_MAX = 2000;
/** Blocking sends give up after this long (SO_SNDTIMEO) instead of hanging the run. */
const SNDTIMEO_S = 5;
const MAX_CALLS_DEFAULT = 100000;
const ZERO_WINDOW_ROUNDS_MAX = 10000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface LiveOptions {
  profileLabel?: string;
}

export async function runLive(loaded: LoadedScenario, opts: LiveOptions = {}): Promise<Observation> {
  const avail = liveAvailable();
  if (!avail.ok) throw new EnvironmentError(avail.reason);
  const memcgLoc = ownMemcg();
  // v1 leaves live under the process's memory cgroup, v2 leaves beside it (see memcg.ts)
  const leafParent = memcgLoc === null ? null : memcgLoc.mode === 'v1' || memcgLoc.parent === '/sys/fs/cgroup' ? memcgLoc.parent : dirname(memcgLoc.parent);
  sweepStale(leafParent, tracefsRoot());
  const name = uniqueName();
  const journal = new Journal(name);
  const obs = await withJournal(journal, async () => {
    const run = new LiveRun(loaded, name, journal, opts);
    return run.execute();
  });
  if (journal.errors.length > 0) {
    process.stderr.write(`skmem: live cleanup: ${journal.errors.join('; ')}\n`);
  }
  return obs;
}

interface Conn {
  listener: number;
  receiver: number;
  sender: number;
  senderPort: number;
  listenPort: number;
}

/** The scenario's connection with every default filled in (a defaulted block may arrive empty). */
function connectionOf(s: Scenario): Required<Omit<Connection, 'route' | 'link'>> & { route: Connection['route'] } {
  const conn = (s.connection ?? {}) as Partial<Connection>;
  return {
    family: conn.family ?? 'ipv4',
    path: conn.path ?? 'loopback',
    congestion: conn.congestion ?? 'cubic',
    route: conn.route ?? { cwnd_lock: 10, initcwnd: 10, rto_min_ms: 5000 },
    receiver: conn.receiver ?? {},
    start: conn.start ?? 'fresh',
  };
}

class LiveRun {
  private readonly s: Scenario;
  private readonly connCfg: ReturnType<typeof connectionOf>;
  private ns!: NetNs;
  private memcg!: Memcg;
  private bufs!: SendBuffers;
  private diag!: SockDiag;
  private tracer: SkbTracer | null = null;
  private conn!: Conn;
  private family: number;
  private readonly fds = new Set<number>();
  private senderClosed = false;
  private zerocopyOn = false;
  /** Zerocopy ids handed out (successful MSG_ZEROCOPY calls) and ids completed. */
  private zcIssued = 0;
  private zcCompleted = 0;
  private readonly unknown: Record<string, string> = {};
  private readonly rxBuf = Buffer.alloc(4 << 20);

  constructor(
    private readonly loaded: LoadedScenario,
    private readonly name: string,
    private readonly journal: Journal,
    private readonly opts: LiveOptions,
  ) {
    this.s = loaded.scenario;
    this.connCfg = connectionOf(this.s);
    this.family = this.connCfg.family === 'ipv6' ? c.AF_INET6 : c.AF_INET;
  }

  async execute(): Promise<Observation> {
    this.setUp();
    if (this.connCfg.start === 'zero_window') await this.fillWindow();
    await this.settle();
    this.tracer = SkbTracer.start(this.name, this.journal, this.unknown);
    this.tracer?.baseline(this.tcpInfo());
    const setup = { sender: this.meminfo() };
    const steps: StepObservation[] = [];
    let lastReal: StepObservation | null = null;
    for (let i = 0; i < this.s.steps.length; i++) {
      const step = this.s.steps[i];
      await sleep(0); // let SIGINT/SIGTERM handlers run between steps
      if ('expect' in step) {
        const base: StepObservation = lastReal ?? { op: {}, result: {}, notifications: [], ...this.state() };
        const state = pickState(base);
        const o: StepObservation = {
          op: { expect: step.expect }, result: {}, ...state, notifications: [],
          failures: checkExpectations(base, step.expect),
        };
        steps.push(o);
        continue;
      }
      const { result, notifications } = await this.doStep(step, i);
      const o: StepObservation = { op: opOf(step), result, ...this.state(), notifications };
      steps.push(o);
      lastReal = o;
    }
    const final = this.state();
    this.tearDown();
    const out: Observation = {
      scenario: this.s.name,
      backend: 'live',
      kernel: {
        profile: this.opts.profileLabel ?? 'live',
        release: release(),
        config: { max_tcp_header: maxTcpHeader() ?? 0 },
      },
      setup,
      steps,
      final,
      warnings: [],
    };
    if (Object.keys(this.unknown).length > 0) out.unknown = { ...this.unknown };
    return out;
  }

  // --- setup and teardown ---

  private setUp(): void {
    const conn = this.connCfg;
    this.ns = NetNs.create(this.name, conn.route, this.journal);
    applySysctls(this.ns, (this.s.sysctl ?? {}) as Record<string, number | number[] | undefined>, this.journal);
    this.ns.enter();
    this.journal.add({ kind: 'other', what: 'sockets', undo: () => this.closeAll() });
    this.warmUp();
    this.memcg = Memcg.create(this.name, this.journal);
    this.bufs = new SendBuffers();
    this.journal.add({ kind: 'other', what: 'send buffers', undo: () => this.bufs.release() });
    this.diag = SockDiag.open();
    this.journal.add({ kind: 'other', what: 'sock_diag socket', undo: () => this.diag.close() });

    const listener = this.open(c.SOCK_STREAM);
    c.setsockoptInt(listener, c.SOL_SOCKET, c.SO_REUSEADDR, 1);
    if (conn.receiver.rcvbuf !== undefined) c.setsockoptInt(listener, c.SOL_SOCKET, c.SO_RCVBUF, conn.receiver.rcvbuf);
    c.bind(listener, c.sockaddr(this.family, 0));
    c.listen(listener, 8);
    const listenPort = c.localPort(listener);

    this.memcg.enter();
    let sender: number;
    try {
      sender = this.open(c.SOCK_STREAM);
    } finally {
      this.memcg.leave();
    }
    c.setsockoptBuf(sender, c.SOL_TCP, c.TCP_CONGESTION, Buffer.from(`${conn.congestion}\0`));
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(BigInt(SNDTIMEO_S), 0);
    c.setsockoptBuf(sender, c.SOL_SOCKET, SO_SNDTIMEO, tv);
    this.applyOptions(sender, this.s.sender ?? {}, true);
    c.connect(sender, c.sockaddr(this.family, listenPort));
    const receiver = c.accept(listener);
    this.fds.add(receiver);
    this.conn = { listener, receiver, sender, senderPort: c.localPort(sender), listenPort };
  }

  /** One connection so that the namespace's tcp_metrics entry for the path exists. */
  private warmUp(): void {
    const l = this.open(c.SOCK_STREAM);
    c.bind(l, c.sockaddr(this.family, 0));
    c.listen(l, 1);
    const cl = this.open(c.SOCK_STREAM);
    c.connect(cl, c.sockaddr(this.family, c.localPort(l)));
    const a = c.accept(l);
    for (const fd of [cl, a, l]) {
      c.close(fd);
      this.fds.delete(fd);
    }
  }

  private open(type: number): number {
    const fd = c.socket(this.family, type);
    this.fds.add(fd);
    return fd;
  }

  private closeAll(): void {
    for (const fd of this.fds) c.close(fd);
    this.fds.clear();
  }

  private tearDown(): void {
    this.tracer?.stop();
    this.closeAll();
  }

  /** Fills the receiver's window to exactly zero with sendfile() while leaving the sender's queue empty. */
  private async fillWindow(): Promise<void> {
    const fd = this.conn.sender;
    const chunk = 64 << 20;
    const mfd = c.memfd('skmem-filler', chunk);
    // a corked sender would hold back the last partial segment of each round
    const corked = this.s.sender?.tcp_cork === true;
    if (corked) c.setsockoptInt(fd, c.SOL_TCP, c.TCP_CORK, 0);
    try {
      for (let round = 0; round < ZERO_WINDOW_ROUNDS_MAX; round++) {
        await this.waitFor(() => c.ioctlInt(fd, c.SIOCOUTQ) === 0, 'the sender\'s queue to empty while filling the window');
        const wnd = this.tcpInfo().snd_wnd;
        if (wnd === 0) return;
        let left = wnd;
        while (left > 0) {
          const n = c.sendfile(fd, mfd, Math.min(left, chunk));
          if (n <= 0) throw new EnvironmentError(`sendfile() failed while filling the window (${n < 0 ? c.errnoName(-n) : 'no progress'})`);
          left -= n;
        }
      }
      throw new EnvironmentError(`the receive window did not close after ${ZERO_WINDOW_ROUNDS_MAX} rounds`);
    } finally {
      c.close(mfd);
      if (corked) c.setsockoptInt(fd, c.SOL_TCP, c.TCP_CORK, 1);
    }
  }

  // --- reading state ---

  private meminfo(): Meminfo {
    return decodeMeminfo(c.getsockoptBuf(this.conn.sender, c.SOL_SOCKET, c.SO_MEMINFO, 36));
  }

  private tcpInfo(): { state: number; snd_wnd: number; bytes_sent: number; snd_mss: number; snd_cwnd: number } {
    const b = c.getsockoptBuf(this.conn.sender, c.SOL_TCP, c.TCP_INFO, 256);
    return {
      state: b[0],
      snd_mss: b.readUInt32LE(16),
      snd_cwnd: b.readUInt32LE(80),
      bytes_sent: Number(b.readBigUInt64LE(200)),
      snd_wnd: b.readUInt32LE(228),
    };
  }

  private receiverRmem(): number {
    return decodeMeminfo(c.getsockoptBuf(this.conn.receiver, c.SOL_SOCKET, c.SO_MEMINFO, 36)).rmem_alloc;
  }

  private receiverBacklog(): number {
    return decodeMeminfo(c.getsockoptBuf(this.conn.receiver, c.SOL_SOCKET, c.SO_MEMINFO, 36)).backlog;
  }

  private state(): StateFields {
    let meminfo: Meminfo;
    let unsent: number;
    let outq: number;
    if (this.senderClosed) {
      const d = this.diag.lookup(this.family, this.conn.senderPort, this.conn.listenPort);
      meminfo = d?.meminfo ?? zeroMeminfo();
      unsent = d?.unsent ?? 0;
      outq = d?.outq ?? 0;
    } else {
      meminfo = this.meminfo();
      unsent = c.ioctlInt(this.conn.sender, c.SIOCOUTQNSD);
      outq = c.ioctlInt(this.conn.sender, c.SIOCOUTQ);
      // In TCP_CLOSE (after disconnect) the ioctls answer write_seq - snd_una/snd_nxt, and
      // tcp_disconnect() advanced write_seq by max_window + 2 after purging both queues:
      // nothing is queued, so report 0 rather than that sequence-space artefact.
      if (this.tcpInfo().state === TCP_CLOSE) unsent = outq = 0;
    }
    const memcg = this.memcg.sockBytes();
    let skbs: number | null = null;
    if (this.tracer) {
      skbs = this.tracer.count({
        receiverRmem: this.receiverRmem() + this.receiverBacklog(),
        bytesSent: this.senderClosed ? null : this.tcpInfo().bytes_sent,
        outq,
      });
    }
    return { meminfo, memcg_sock_bytes: memcg, tcp_mem_pages: memcg / c.PAGE_SIZE, skbs, unsent, outq };
  }

  // --- steps ---

  private async doStep(step: Step, i: number): Promise<{ result: StepResult; notifications: Notification[] }> {
    const where = `${this.loaded.file}:${this.loaded.stepLines[i] ?? 1}: steps[${i}]`;
    const needSender = () => {
      if (this.senderClosed) throw new UsageError(`${where}: the sender was closed by an earlier step`);
    };
    if ('send' in step) {
      needSender();
      return { result: this.sendOnce(step.send, where), notifications: [] };
    }
    if ('sendfile' in step) {
      needSender();
      const result = this.sendfileOnce(step.sendfile);
      await this.settle();
      return { result, notifications: [] };
    }
    if ('send_until_eagain' in step) {
      needSender();
      const a = step.send_until_eagain;
      if (a.blocking) throw new UsageError(`${where}: send_until_eagain cannot be blocking on the live backend (it would never see EAGAIN)`);
      const returns: (number | string)[] = [];
      let accepted = 0;
      let errno: string | undefined;
      const max = a.max_calls ?? MAX_CALLS_DEFAULT;
      for (let n = 0; n < max; n++) {
        const r = this.sendOnce(a, where);
        if ('errno' in r && r.errno !== undefined) {
          returns.push(r.errno);
          errno = r.errno;
          break;
        }
        const ret = (r as { ret: number }).ret;
        returns.push(ret);
        accepted += ret;
      }
      const result: StepResult = { calls: returns.length, accepted_bytes: accepted, returns };
      if (errno !== undefined) result.errno = errno;
      return { result, notifications: [] };
    }
    if ('setsockopt' in step) {
      needSender();
      try {
        this.applyOptions(this.conn.sender, step.setsockopt, false);
      } catch (e) {
        if (e instanceof c.SysError) return { result: { errno: e.code }, notifications: [] };
        throw e;
      }
      await this.settle();
      return { result: {}, notifications: [] };
    }
    if ('errqueue' in step) {
      const notes = this.senderClosed ? [] : this.readErrqueue();
      return { result: { notifications: notes.length }, notifications: notes };
    }
    if ('recv' in step) {
      const got = await this.receive(step.recv.bytes);
      await this.settle();
      return { result: { ret: got }, notifications: [] };
    }
    if ('drain' in step) {
      const notes = await this.drain(where);
      return { result: { notifications: notes.length }, notifications: notes };
    }
    if ('close' in step) {
      needSender();
      const r = c.close(this.conn.sender);
      this.fds.delete(this.conn.sender);
      this.senderClosed = true;
      await this.settle();
      return { result: r < 0 ? { errno: c.errnoName(-r) } : { ret: 0 }, notifications: [] };
    }
    if ('disconnect' in step) {
      needSender();
      const r = c.disconnect(this.conn.sender);
      await this.settle();
      return { result: r < 0 ? { errno: c.errnoName(-r) } : { ret: 0 }, notifications: [] };
    }
    if ('sleep' in step) {
      await sleep(step.sleep.ms);
      return { result: {}, notifications: [] };
    }
    throw new UsageError(`${where}: the live backend cannot run this step`);
  }

  /** The sendfile() source: a memfd with real pages, sized for every sendfile step of the scenario. */
  private fileFd: number | null = null;
  private fileCursor = 0;

  private sendfileOnce(a: SendfileArgs): StepResult {
    if (this.fileFd === null) {
      let need = 0;
      let cursor = 0;
      for (const st of this.s.steps) {
        if (!('sendfile' in st)) continue;
        const start = st.sendfile.offset ?? cursor;
        cursor = start + st.sendfile.len;
        need = Math.max(need, cursor);
      }
      this.fileFd = c.filledMemfd('skmem-sendfile', Math.max(need, c.PAGE_SIZE));
      this.fds.add(this.fileFd);
    }
    const off = a.offset ?? this.fileCursor;
    if (!a.blocking) c.setNonBlocking(this.conn.sender, true);
    const ret = c.sendfileAt(this.conn.sender, this.fileFd, off, a.len);
    if (!a.blocking) c.setNonBlocking(this.conn.sender, false);
    if (ret < 0) return { errno: c.errnoName(-ret) };
    this.fileCursor = off + ret;
    return { ret };
  }

  private sendOnce(a: SendArgs, where: string): StepResult {
    const lens = a.iov ?? [a.len ?? 0];
    const segs = this.bufs.place(lens, a.offset ?? 0, a.contiguous ?? false);
    const msghdr = this.bufs.msghdr(segs);
    let flags = c.MSG_NOSIGNAL;
    if (a.zerocopy) flags |= c.MSG_ZEROCOPY;
    if (!a.blocking) flags |= c.MSG_DONTWAIT;
    for (const f of a.flags ?? []) {
      flags |= f === 'MSG_MORE' ? c.MSG_MORE : f === 'MSG_EOR' ? c.MSG_EOR : c.MSG_DONTWAIT;
    }
    void where;
    const ret = c.sendmsgRaw(this.conn.sender, msghdr, flags);
    if (ret < 0) return { errno: c.errnoName(-ret) };
    const total = lens.reduce((x, y) => x + y, 0);
    if (a.zerocopy && this.zerocopyOn && total > 0 && ret > 0) this.zcIssued += 1;
    return { ret };
  }

  private applyOptions(fd: number, o: SenderOptions, beforeConnect: boolean): void {
    void beforeConnect;
    if (o.so_zerocopy !== undefined) {
      c.setsockoptInt(fd, c.SOL_SOCKET, c.SO_ZEROCOPY, o.so_zerocopy ? 1 : 0);
      this.zerocopyOn = o.so_zerocopy;
    }
    if (o.so_sndbuf !== undefined) c.setsockoptInt(fd, c.SOL_SOCKET, c.SO_SNDBUF, o.so_sndbuf);
    if (o.so_sndbufforce !== undefined) c.setsockoptInt(fd, c.SOL_SOCKET, c.SO_SNDBUFFORCE, o.so_sndbufforce);
    if (o.tcp_nodelay !== undefined) c.setsockoptInt(fd, c.SOL_TCP, c.TCP_NODELAY, o.tcp_nodelay ? 1 : 0);
    if (o.tcp_cork !== undefined) c.setsockoptInt(fd, c.SOL_TCP, c.TCP_CORK, o.tcp_cork ? 1 : 0);
    if (o.so_linger !== undefined) {
      const b = Buffer.alloc(8);
      b.writeInt32LE(o.so_linger.onoff ? 1 : 0, 0);
      b.writeInt32LE(o.so_linger.linger, 4);
      c.setsockoptBuf(fd, c.SOL_SOCKET, c.SO_LINGER, b);
    }
  }

  /** recvmsg(MSG_ERRQUEUE) until EAGAIN; keeps zerocopy notifications (origin 5). */
  private readErrqueue(): Notification[] {
    const out: Notification[] = [];
    for (let n = 0; n < 100000; n++) {
      const { msghdr, control, controlLen } = this.bufs.errqueueMsghdr();
      const r = c.recvmsgRaw(this.conn.sender, msghdr, c.MSG_ERRQUEUE | c.MSG_DONTWAIT);
      if (r < 0) {
        if (-r === 11) break;
        throw new EnvironmentError(`recvmsg(MSG_ERRQUEUE) failed: ${c.errnoName(-r)}`);
      }
      const hdr = c.peek(msghdr, 56);
      const clen = Number(hdr.readBigUInt64LE(40));
      const cbuf = c.peek(control, Math.min(clen, controlLen));
      for (let at = 0; at + 16 <= cbuf.length; ) {
        const len = Number(cbuf.readBigUInt64LE(at));
        const level = cbuf.readInt32LE(at + 8);
        const type = cbuf.readInt32LE(at + 12);
        if (len < 16) break;
        const isRecvErr = (level === c.SOL_IP && type === c.IP_RECVERR) || (level === c.SOL_IPV6 && type === c.IPV6_RECVERR);
        if (isRecvErr && len >= 16 + 16) {
          const d = at + 16;
          const origin = cbuf[d + 4];
          if (origin === c.SO_EE_ORIGIN_ZEROCOPY) {
            const note = { lo: cbuf.readUInt32LE(d + 8), hi: cbuf.readUInt32LE(d + 12), code: cbuf[d + 6] };
            out.push(note);
            this.zcCompleted += ((note.hi - note.lo) >>> 0) + 1;
          }
        }
        at += (len + 7) & ~7;
      }
    }
    return out;
  }

  /**
   * Puts the receiver in quick-ACK mode before it reads, so that what the reads let the sender
   * transmit is ACKed at once rather than by the delayed-ACK timer (40 ms or more): the state
   * after a recv/drain step then does not depend on timing.
   */
  private quickAck(): void {
    c.setsockoptInt(this.conn.receiver, c.SOL_TCP, TCP_QUICKACK, 1);
  }

  /** The receiver reads up to `bytes` bytes; returns how many it got. */
  private async receive(bytes: number): Promise<number> {
    this.quickAck();
    let got = 0;
    let idleSince = Date.now();
    while (got < bytes) {
      const n = c.recv(this.conn.receiver, this.rxBuf, bytes - got, c.MSG_DONTWAIT);
      if (n > 0) {
        got += n;
        idleSince = Date.now();
        continue;
      }
      if (n === 0) break; // EOF
      if (-n !== 11) throw new EnvironmentError(`recv() on the receiver failed: ${c.errnoName(-n)}`);
      if (Date.now() - idleSince > 200) break;
      await sleep(1);
    }
    return got;
  }

  private async drain(where: string): Promise<Notification[]> {
    const notes: Notification[] = [];
    const t0 = Date.now();
    for (;;) {
      this.quickAck();
      for (;;) {
        const n = c.recv(this.conn.receiver, this.rxBuf, this.rxBuf.length, c.MSG_DONTWAIT);
        if (n <= 0) break;
      }
      if (!this.senderClosed) notes.push(...this.readErrqueue());
      const outq = this.senderClosed
        ? (this.diag.lookup(this.family, this.conn.senderPort, this.conn.listenPort)?.outq ?? 0)
        : c.ioctlInt(this.conn.sender, c.SIOCOUTQ);
      const idsDone = this.senderClosed || this.zcCompleted >= this.zcIssued;
      if (outq === 0 && idsDone) break;
      if (Date.now() - t0 > WAIT_MS_MAX) {
        throw new EnvironmentError(
          `${where}: drain did not finish within ${WAIT_MS_MAX} ms (outq ${outq}, zerocopy ids completed ${this.zcCompleted} of ${this.zcIssued})`,
        );
      }
      await sleep(1);
    }
    await this.settle();
    return notes;
  }

  /** Waits until the sender's observable state stops changing (ACKs and frees are done). */
  private async settle(): Promise<void> {
    let prev = '';
    let same = 0;
    const t0 = Date.now();
    while (same < 3 && Date.now() - t0 < WAIT_MS_MAX) {
      const s = JSON.stringify(this.senderClosed ? [this.memcg.sockBytes()] : [this.meminfo(), c.ioctlInt(this.conn.sender, c.SIOCOUTQ), c.ioctlInt(this.conn.sender, c.SIOCOUTQNSD), this.memcg.sockBytes()]);
      same = s === prev ? same + 1 : 0;
      prev = s;
      await sleep(1);
    }
  }

  private async waitFor(cond: () => boolean, what: string): Promise<void> {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > WAIT_MS_MAX) throw new EnvironmentError(`timed out after ${WAIT_MS_MAX} ms waiting for ${what}`);
      await sleep(1);
    }
  }
}

const SO_SNDTIMEO = 21;
const TCP_CLOSE = 7;
const TCP_QUICKACK = 12;

function zeroMeminfo(): Meminfo {
  return { rmem_alloc: 0, rcvbuf: 0, wmem_alloc: 0, sndbuf: 0, fwd_alloc: 0, wmem_queued: 0, optmem: 0, backlog: 0, drops: 0 };
}

function pickState(o: StateFields): StateFields {
  return {
    meminfo: o.meminfo, memcg_sock_bytes: o.memcg_sock_bytes, tcp_mem_pages: o.tcp_mem_pages,
    skbs: o.skbs, unsent: o.unsent, outq: o.outq,
  };
}

function opOf(step: Step): Record<string, unknown> {
  const { note: _note, ...rest } = step as Step & { note?: string };
  return rest;
}
