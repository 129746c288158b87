// skb counts of the sender (write queue + retransmit queue) from static tracepoints in a
// private tracefs instance. TCP transmit skbs are fclones (tcp_stream_alloc_skb ->
// __alloc_skb(SKB_ALLOC_FCLONE)): every allocation of one by this process (sendmsg, and the
// tso_fragment/tcp_fragment splits that run in its softirq context on loopback) is recorded by
// pointer from kmem:kmem_cache_alloc, and removed again by kmem:kmem_cache_free.
//
// Exactness: the slab object of an fclone is freed only when both the queued original and
// its transmitted clone are gone. On loopback the clone can sit in the receiver's queue after
// the original was ACKed and freed, so the count of live objects equals the number of queued
// skbs only when no clone of a tracked skb can be alive: nothing was transmitted since
// tracking started, or the receiver's queue is empty. Otherwise the count is reported as
// null (the model of that state is not observable here without kprobes, which this kernel
// does not have).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, rmdirSync, writeFileSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Journal } from './cleanup.ts';

const DEFAULT_MOUNT = '/sys/kernel/tracing';

/** The tracefs mount point, if tracefs is mounted. */
export function tracefsRoot(): string | null {
  try {
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, dir, type] = line.split(' ');
      if (type === 'tracefs' && dir) return dir;
    }
  } catch {
    /* no /proc */
  }
  return null;
}

/**
 * The name trace events give the fclone cache: SLUB merges compatible caches, and events
 * carry the surviving cache's name, which is the alias listed in /proc/slabinfo.
 */
function fcloneCacheName(): string | null {
  const slab = '/sys/kernel/slab';
  const own = join(slab, 'skbuff_fclone_cache');
  if (!existsSync(own)) return null;
  let target: string;
  try {
    target = readlinkSync(own);
  } catch {
    return 'skbuff_fclone_cache'; // a directory: not merged
  }
  const aliases = readdirSync(slab).filter((n) => {
    try {
      return readlinkSync(join(slab, n)) === target;
    } catch {
      return false;
    }
  });
  const listed = new Set(readFileSync('/proc/slabinfo', 'utf8').split('\n').map((l) => l.split(/\s+/)[0]));
  return aliases.find((a) => listed.has(a)) ?? null;
}

/** Unmounts the tracefs this process mounted: retries while busy, then detaches lazily. */
function unmountTracefs(): void {
  for (let i = 0; i < 20; i++) {
    if (spawnSync('umount', [DEFAULT_MOUNT]).status === 0) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  spawnSync('umount', ['-l', DEFAULT_MOUNT]);
}

export interface CountContext {
  receiverRmem: number;
  /** tcpi_bytes_sent of the sender now; null once it is closed. */
  bytesSent: number | null;
  outq: number;
}

export class SkbTracer {
  private readonly live = new Set<string>();
  private readonly pipeFd: number;
  private readonly buf = Buffer.alloc(1 << 20);
  private partial = '';
  private bytesSentAtStart = 0;
  private stopped = false;

  private constructor(private readonly dir: string, private readonly unknown: Record<string, string>) {
    this.pipeFd = openSync(join(dir, 'trace_pipe'), constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /**
   * Creates the instance and starts recording; returns null (with the reason in `unknown`)
   * when tracefs or the needed events are not available.
   */
  static start(name: string, journal: Journal, unknown: Record<string, string>): SkbTracer | null {
    try {
      let root = tracefsRoot();
      if (root === null) {
        const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', DEFAULT_MOUNT], { encoding: 'utf8' });
        if (r.status !== 0) {
          unknown.skbs = `tracefs is not mounted and mounting it failed (${(r.stderr || '').trim()})`;
          return null;
        }
        root = DEFAULT_MOUNT;
        // kept for the life of the process (mounting and unmounting per run races with the
        // kernel's release of removed instances: "target is busy"); unmounted at exit
        process.on('exit', unmountTracefs);
      }
      const events = join(root, 'events/kmem/kmem_cache_alloc');
      if (!existsSync(events)) {
        unknown.skbs = 'tracefs has no kmem:kmem_cache_alloc event';
        return null;
      }
      const cache = fcloneCacheName();
      if (cache === null) {
        unknown.skbs = 'cannot tell the name of the skbuff_fclone_cache slab (not in /sys/kernel/slab or /proc/slabinfo)';
        return null;
      }
      const dir = join(root, 'instances', name);
      mkdirSync(dir);
      const tracer = new SkbTracer(dir, unknown);
      journal.add({ kind: 'trace_instance', what: dir, undo: () => tracer.remove() });
      writeFileSync(join(dir, 'buffer_size_kb'), '4096');
      writeFileSync(
        join(dir, 'events/kmem/kmem_cache_alloc/filter'),
        `call_site.function == __alloc_skb && name == "${cache}" && common_pid == ${process.pid}`,
      );
      writeFileSync(join(dir, 'events/kmem/kmem_cache_free/filter'), `name == "${cache}"`);
      writeFileSync(join(dir, 'events/kmem/kmem_cache_alloc/enable'), '1');
      writeFileSync(join(dir, 'events/kmem/kmem_cache_free/enable'), '1');
      return tracer;
    } catch (e) {
      unknown.skbs = `could not set up the tracefs instance: ${(e as Error).message}`;
      return null;
    }
  }

  baseline(info: { bytes_sent: number }): void {
    this.bytesSentAtStart = info.bytes_sent;
  }

  /** Consumes the events recorded so far. */
  private drain(): void {
    for (let i = 0; i < 100000; i++) {
      let n: number;
      try {
        n = readSync(this.pipeFd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw e;
      }
      if (n <= 0) return;
      const text = this.partial + this.buf.toString('utf8', 0, n);
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const m = / (kmem_cache_alloc|kmem_cache_free): .*?ptr=([0-9a-f]+)/.exec(line);
    if (!m) return;
    if (m[1] === 'kmem_cache_alloc') this.live.add(m[2]);
    else this.live.delete(m[2]);
  }

  /** skbs in the sender's write + retransmit queues, or null when not exactly knowable now. */
  count(ctx: CountContext): number | null {
    this.drain();
    // write_seq == snd_una: nothing is queued (a FIN takes sequence space too)
    if (ctx.outq === 0) return 0;
    const nothingSent = ctx.bytesSent !== null && ctx.bytesSent === this.bytesSentAtStart;
    if (nothingSent || ctx.receiverRmem === 0) return this.live.size;
    return this.inexact(
      'skbs is null after data reached a receiver that has not read it: the clone in the receiver queue keeps the fclone slab object alive after the queued skb is freed, and this kernel has no kprobes to see the queued skb itself',
    );
  }

  private inexact(reason: string): null {
    this.unknown.skbs ??= reason;
    return null;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      writeFileSync(join(this.dir, 'events/kmem/kmem_cache_alloc/enable'), '0');
      writeFileSync(join(this.dir, 'events/kmem/kmem_cache_free/enable'), '0');
    } catch {
      /* instance already gone */
    }
  }

  remove(): void {
    this.stop();
    try {
      closeSync(this.pipeFd);
    } catch {
      /* closed */
    }
    if (existsSync(this.dir)) rmdirSync(this.dir);
  }
}
