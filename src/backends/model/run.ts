// The model backend: runs a scenario on the model under one kernel profile and answers with
// the observation contract. Deterministic: simulated time, no randomness, no I/O.
import type { Checker, ModelView } from '../../checkers/types.ts';
import { UsageError } from '../../cli/errors.ts';
import { resetSkbIds } from '../../model/skbuff.ts';
import { PAGE_SIZE } from '../../model/skb_geometry.ts';
import { setSndbuf, Sock, type NetContext, newNetContext } from '../../model/sock.ts';
import { sk_mem_reclaim } from '../../model/sk_mem.ts';
import { destroySock, tcp_disconnect, tcp_send_fin, tcp_write_queue_purge } from '../../model/tcp_close.ts';
import { EAGAIN, ENOBUFS, EPIPE } from '../../model/tcp_sendmsg.ts';
import { IovIter, read_error_queue } from '../../model/zerocopy.ts';
import { LinkStepPath } from '../../paths/link_steps.ts';
import { LoopbackPath } from '../../paths/loopback.ts';
import type { Path } from '../../paths/path.ts';
import { getProfile, resolveConfig } from '../../profiles/index.ts';
import type { KernelConfig, KernelProfile, NetSysctls } from '../../profiles/types.ts';
import { checkExpectations } from '../../scenario/expect.ts';
import type { Meminfo, Notification, Observation, StateFields, StepObservation, StepResult, TrailEntry, Warning } from '../../scenario/observation.ts';
import { withTracer } from '../../model/trace.ts';
import { splice_file_to_socket, tcp_sendmsg } from '../../model/syscalls.ts';
import type { LoadedScenario } from '../../scenario/parse.ts';
import type { Scenario, SendArgs, SendfileArgs, SendUntilEagainArgs, SenderOptions, Step } from '../../scenario/schema.ts';
import { applyOverrides, type Overrides } from './overrides.ts';
import { SendLayout } from '../../scenario/send_layout.ts';

export interface ModelRunOptions {
  /** Profile name; overrides the scenario's `kernel:`. Default 6.18. */
  kernel?: string;
  /** --set key=value overrides of config facts and sysctls (win over the scenario). */
  overrides?: Overrides;
  /** Machine facts (--kernel auto): replace the profile's defaults; the scenario's own values win over them. */
  machine?: Overrides;
  /** Record each step's accounting trail (kernel functions, amounts, reasons) as `explain`. */
  explain?: boolean;
  /** Checkers (src/checkers) run after setup and after every step; they keep their own findings. */
  checkers?: readonly Checker[];
}

/** Virtual address of the user buffer area (src/scenario/send_layout.ts). */
const USER_BASE = 0x10000000;

/** Virtual page numbers of the sendfile() file, far from the user buffers. */
const FILE_BASE = 2 ** 44;

const ERRNO_NAMES: Record<number, string> = { [EAGAIN]: 'EAGAIN', [ENOBUFS]: 'ENOBUFS', [EPIPE]: 'EPIPE' };
const errnoName = (e: number) => ERRNO_NAMES[e] ?? `errno ${e}`;

export function runModel(loaded: LoadedScenario, opts: ModelRunOptions = {}): Observation {
  const sc = loaded.scenario;
  const profile = getProfile(opts.kernel ?? sc.kernel ?? '6.18');
  const { cfg, sysctl } = resolveSettings(profile, sc, opts.overrides ?? {}, opts.machine ?? {});
  return new ModelRun(loaded, profile, cfg, sysctl, opts.checkers ?? [], opts.explain ?? false).run();
}

/** Settings in increasing precedence: profile defaults, machine facts, the scenario, --set. */
export function resolveSettings(profile: KernelProfile, sc: Scenario, overrides: Overrides, machine: Overrides = {}): { cfg: KernelConfig; sysctl: NetSysctls } {
  const sysctl: NetSysctls = { ...profile.sysctlDefaults };
  const cfgOverrides: Partial<KernelConfig> = {};
  applyOverrides(machine, cfgOverrides, sysctl);
  Object.assign(sysctl, sc.sysctl);
  Object.assign(cfgOverrides, sc.config);
  applyOverrides(overrides, cfgOverrides, sysctl);
  return { cfg: resolveConfig(profile, cfgOverrides), sysctl };
}

/** Virtual addresses of user buffers: each non-contiguous send gets fresh pages. */
class UserBuffers {
  private readonly layoutState = new SendLayout();

  layout(args: SendArgs): { addr: number; len: number }[] {
    const { segs } = this.layoutState.place(args.iov ?? [args.len ?? 0], args.offset ?? 0, args.contiguous ?? false);
    return segs.map((s) => ({ addr: USER_BASE + s.addr, len: s.len }));
  }
}

class ModelRun {
  private readonly net: NetContext;
  private readonly sk: Sock;
  private readonly path: Path;
  private readonly bufs = new UserBuffers();
  private readonly warnings: Warning[] = [];
  private destroyed = false;
  /** sendfile()'s file position when a step gives no offset. */
  private fileCursor = 0;
  private closed = false;

  constructor(
    private readonly loaded: LoadedScenario,
    private readonly profile: KernelProfile,
    private readonly cfg: KernelConfig,
    private readonly sysctl: NetSysctls,
    private readonly checkers: readonly Checker[] = [],
    private readonly explain = false,
  ) {
    resetSkbIds();
    this.net = newNetContext(profile, cfg, sysctl);
    this.sk = new Sock(this.net, 1);
    this.net.proto.sk_sockets_allocated_inc(); // the sender
    this.net.proto.sk_sockets_allocated_inc(); // the receiver
    const sc = loaded.scenario;
    this.path = sc.connection.path === 'link' ? new LinkStepPath() : new LoopbackPath(sc.connection.start, sc.connection.route.rto_min_ms ?? 200);
  }

  run(): Observation {
    const sc = this.loaded.scenario;
    this.applySender(sc.sender, true);
    this.connect();
    resetSkbIds(); // the zero-window filler's skbs are gone: number the scenario's own from 1
    const setup = { sender: this.meminfo() };
    const steps: StepObservation[] = [];
    let last: StepObservation = { op: {}, result: {}, ...this.state(), notifications: [] };
    const view = this.view();
    for (const c of this.checkers) c.attach?.(view);
    for (const c of this.checkers) c.afterStep(view, -1, null);
    sc.steps.forEach((step, i) => {
      const trail: TrailEntry[] = [];
      const obs = this.explain ? withTracer((e) => trail.push({ fn: e.fn, what: e.what, fwd_alloc: e.fwd_alloc, wmem_queued: e.wmem_queued }), () => this.step(step, i, last)) : this.step(step, i, last);
      if ('expect' in step) delete obs.explain;
      else if (this.explain) obs.explain = trail;
      steps.push(obs);
      last = obs;
      for (const c of this.checkers) c.afterStep(view, i, step);
    });
    return {
      scenario: sc.name,
      backend: 'model',
      kernel: { profile: this.profile.name, release: this.profile.release, config: { ...this.cfg } },
      setup,
      steps,
      final: this.state(),
      warnings: this.warnings,
    };
  }

  /** The read-only view the checkers get of this run. */
  private view(): ModelView {
    const run = this;
    return {
      profile: this.profile, net: this.net, sk: this.sk, path: this.path,
      get destroyed() {
        return run.destroyed;
      },
    };
  }

  /** Connection establishment on the scenario's path: MSS, windows, tcp_init_buffer_space() -> tcp_sndbuf_expand(). */
  private connect(): void {
    this.path.establish(this.sk, this.loaded.scenario.connection, this.sysctl);
  }

  private applySender(o: SenderOptions, beforeConnect: boolean): void {
    const sk = this.sk;
    if (o.so_zerocopy !== undefined) sk.zerocopy = o.so_zerocopy;
    if (o.so_sndbuf !== undefined) setSndbuf(sk, o.so_sndbuf, false);
    if (o.so_sndbufforce !== undefined) setSndbuf(sk, o.so_sndbufforce, true);
    if (o.tcp_nodelay !== undefined) sk.nodelay = o.tcp_nodelay;
    if (o.so_linger !== undefined) sk.linger = o.so_linger;
    if (o.tcp_cork !== undefined) {
      const uncork = sk.cork && !o.tcp_cork;
      sk.cork = o.tcp_cork;
      if (uncork && !beforeConnect) this.path.push(sk, false); // tcp_push_pending_frames()
    }
  }

  private step(step: Step, i: number, last: StepObservation): StepObservation {
    const op = opOf(step);
    let result: StepResult = {};
    let notifications: Notification[] = [];
    if ('expect' in step) {
      // An expect step repeats the state it checks: the observation after the previous step.
      const failures = checkExpectations(last, step.expect);
      return { ...last, op, result, notifications: last.notifications, failures };
    }
    this.requireOpen(step, i);
    if ('send' in step) result = this.send(step.send);
    else if ('sendfile' in step) result = this.sendfile(step.sendfile);
    else if ('send_until_eagain' in step) result = this.sendUntilEagain(step.send_until_eagain);
    else if ('setsockopt' in step) this.applySender(step.setsockopt, false);
    else if ('errqueue' in step) {
      notifications = this.closed ? [] : this.readErrqueue();
      result = { notifications: notifications.length };
    } else if ('drain' in step) {
      this.path.drain(this.sk);
      if (!this.closed && this.sk.write_seq !== this.sk.snd_una) {
        // As on the live kernel: e.g. TCP_CORK holds a partial skb back however much the receiver reads.
        throw new UsageError(`${this.loaded.file}:${this.loaded.stepLines[i]}: steps[${i}]: drain cannot finish: ${this.sk.write_seq - this.sk.snd_una} bytes stay unacknowledged (${this.sk.cork ? 'TCP_CORK holds a partial skb; uncork first' : 'the sender does not transmit them'})`);
      }
      notifications = this.closed ? [] : this.readErrqueue();
      result = { notifications: notifications.length };
      if (this.closed) this.destroy(i);
    } else if ('close' in step) {
      this.close(i);
      result = { ret: 0 };
    } else if ('disconnect' in step) {
      tcp_disconnect(this.sk);
      this.path.disconnected(this.sk);
      result = { ret: 0 };
    } else if ('sleep' in step) {
      this.path.advance(this.sk, step.sleep.ms);
      if (this.closed && this.path.finAcked(this.sk)) this.destroy(i);
    }
    else if ('recv' in step) result = { ret: this.path.recv(this.sk, step.recv.bytes) };
    return { op, result, ...this.state(), notifications };
  }

  private requireOpen(step: Step, i: number): void {
    const allowedAfterClose = 'sleep' in step || 'drain' in step || 'errqueue' in step;
    if (this.closed && !allowedAfterClose) {
      throw new UsageError(`${this.loaded.file}:${this.loaded.stepLines[i]}: steps[${i}]: the sender was closed by an earlier step; only sleep, drain and expect may follow`);
    }
  }


  private sendOnce(args: SendArgs): number {
    const flags = args.flags ?? [];
    const iov = new IovIter(this.bufs.layout(args));
    if (args.zerocopy && this.sk.zerocopy) this.sk.ledger.zc_calls++;
    const ret = tcp_sendmsg(
      this.sk,
      { iov, zerocopy: args.zerocopy ?? false, more: flags.includes('MSG_MORE'), eor: flags.includes('MSG_EOR'), dontwait: !args.blocking || flags.includes('MSG_DONTWAIT') },
      this.path,
    );
    if (ret < 0 && args.zerocopy && this.sk.zerocopy) this.sk.ledger.zc_calls--;
    return ret;
  }

  private send(args: SendArgs): StepResult {
    const ret = this.sendOnce(args);
    return ret < 0 ? { errno: errnoName(-ret) } : { ret };
  }

  private sendUntilEagain(args: SendUntilEagainArgs): StepResult {
    const max = args.max_calls ?? 100000;
    const returns: (number | string)[] = [];
    let accepted = 0;
    let errno: string | undefined;
    for (let n = 0; n < max; n++) {
      const ret = this.sendOnce(args);
      if (ret < 0) {
        errno = errnoName(-ret);
        returns.push(errno);
        break;
      }
      returns.push(ret);
      accepted += ret;
    }
    const res: StepResult = { calls: returns.length, accepted_bytes: accepted, returns };
    if (errno !== undefined) res.errno = errno;
    return res;
  }

  /**
   * sendfile(): the file is spliced in calls of profile.splicePagesPerCall pages, each one
   * tcp_sendmsg_locked(MSG_SPLICE_PAGES) (6.x) or do_tcp_sendpages() (5.x), with MSG_MORE
   * while more follows. File pages live in their own address range (page identity).
   */
  private sendfile(args: SendfileArgs): StepResult {
    const off = args.offset ?? this.fileCursor;
    const ret = splice_file_to_socket(this.sk, this.path, FILE_BASE, off, args.len, !args.blocking);
    if (ret < 0) return { errno: errnoName(-ret) };
    this.fileCursor = off + ret;
    return { ret };
  }

  private readErrqueue(): Notification[] {
    return read_error_queue(this.sk).map(({ lo, hi, code }) => ({ lo, hi, code }));
  }

  /** close(): SO_LINGER 0 aborts (tcp_disconnect); otherwise FIN and an orphan that keeps its charge. */
  private close(i: number): void {
    const sk = this.sk;
    this.closed = true;
    if (sk.linger?.onoff && sk.linger.linger === 0) {
      tcp_disconnect(sk);
      sk.dead = true;
      this.destroy(i);
      return;
    }
    if (sk.profile.mem.timerReclaim) sk_mem_reclaim(sk); // 5.x __tcp_close()
    tcp_send_fin(sk);
    sk.dead = true; // sock_orphan()
    this.path.push(sk, false);
    if (this.path.finAcked(sk)) this.destroy(i); // FIN acknowledged: the orphan goes away
  }

  private destroy(i: number): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (!this.sk.queuesEmpty()) tcp_write_queue_purge(this.sk);
    this.warnings.push(...destroySock(this.sk, i));
  }

  private meminfo(): Meminfo {
    const sk = this.sk;
    // A destroyed socket has no SO_MEMINFO any more: reported as zeros, like the live backend.
    if (this.destroyed) return { rmem_alloc: 0, rcvbuf: 0, wmem_alloc: 0, sndbuf: 0, fwd_alloc: 0, wmem_queued: 0, optmem: 0, backlog: 0, drops: 0 };
    return {
      rmem_alloc: sk.sk_rmem_alloc, rcvbuf: sk.sk_rcvbuf, wmem_alloc: sk.sk_wmem_alloc, sndbuf: sk.sk_sndbuf,
      fwd_alloc: sk.sk_forward_alloc, wmem_queued: sk.sk_wmem_queued, optmem: sk.sk_omem_alloc, backlog: 0, drops: 0,
    };
  }

  private state(): StateFields {
    const sk = this.sk;
    return {
      meminfo: this.meminfo(),
      memcg_sock_bytes: (this.net.memcg?.sock_pages ?? 0) * PAGE_SIZE,
      tcp_mem_pages: sk.mem_pages,
      skbs: sk.write_queue.length + sk.rtx_queue.length,
      unsent: sk.write_seq - sk.snd_nxt,
      outq: sk.write_seq - sk.snd_una,
    };
  }
}

function opOf(step: Step): Record<string, unknown> {
  const { note: _note, ...rest } = step as Step & { note?: string };
  return rest as Record<string, unknown>;
}
