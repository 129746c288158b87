// The sender's exact page charge: a child memory cgroup that holds only the sender socket.
// cgroup v1: writing memory.kmem.tcp.limit_in_bytes switches TCP accounting on for the cgroup
// (memcg1 tcpmem_active); sockets created by a task in it are charged page by page to
// memory.kmem.tcp.usage_in_bytes, in step with tcp_memory_allocated (mm/memcontrol-v1.c
// memcg1_charge_skmem, net/core/sock.c __sk_mem_raise_allocated). cgroup v2: memory.stat
// "sock" of a leaf cgroup is the same quantity.
// Only the calling (main) thread moves in, and only while the sender socket is created.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../../cli/errors.ts';
import type { Journal } from './cleanup.ts';

export type CgroupMode = 'v1' | 'v2';

export interface MemcgLocation {
  mode: CgroupMode;
  /** The memory cgroup directory the process is in now (the parent of ours). */
  parent: string;
}

/** Where this process's memory cgroup is, from /proc/self/cgroup. */
export function ownMemcg(): MemcgLocation | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers?.split(',').includes('memory')) {
      const dir = join('/sys/fs/cgroup/memory', path ?? '/');
      if (existsSync(dir)) return { mode: 'v1', parent: dir };
    }
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('0::')) {
      const dir = join('/sys/fs/cgroup', line.slice(3));
      if (existsSync(join(dir, 'cgroup.controllers'))) {
        const ctl = readFileSync(join(dir, 'cgroup.controllers'), 'utf8');
        if (ctl.split(/\s+/).includes('memory')) return { mode: 'v2', parent: dir };
      }
    }
  }
  return null;
}

/** Main-thread id: Node's main thread is the thread group leader. */
const TID = process.pid;

export class Memcg {
  private constructor(readonly loc: MemcgLocation, readonly dir: string) {}

  static create(name: string, journal: Journal): Memcg {
    const loc = ownMemcg();
    if (!loc) throw new EnvironmentError('no memory cgroup controller is available for this process (see /proc/self/cgroup)');
    return loc.mode === 'v1' ? Memcg.createV1(loc, name, journal) : Memcg.createV2(loc, name, journal);
  }

  private static mkdir(dir: string): void {
    try {
      mkdirSync(dir);
    } catch (e) {
      throw new EnvironmentError(`cannot create memory cgroup ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }

  private static createV1(loc: MemcgLocation, name: string, journal: Journal): Memcg {
    const dir = join(loc.parent, name);
    Memcg.mkdir(dir);
    const cg = new Memcg(loc, dir);
    journal.add({ kind: 'cgroup', what: dir, undo: () => cg.remove() });
    // Any write activates TCP accounting; the value only has to be large enough never to bite.
    writeFileSync(join(dir, 'memory.kmem.tcp.limit_in_bytes'), String(1 << 30));
    return cg;
  }

  /**
   * cgroup v2: a cgroup that holds processes cannot have children with controllers ("no
   * internal processes"), so the leaf is created beside the process's own cgroup, under a
   * parent whose subtree_control already delegates memory (it does, since our cgroup has the
   * memory controller). The whole process moves in while the sender socket is created.
   * Not exercised on the development machines (memory is on cgroup v1 there).
   */
  private static createV2(loc: MemcgLocation, name: string, journal: Journal): Memcg {
    const own = loc.parent;
    const parent = dirname(own);
    const dir = join(own === '/sys/fs/cgroup' ? own : parent, name);
    Memcg.mkdir(dir);
    const cg = new Memcg({ mode: 'v2', parent: own }, dir);
    journal.add({ kind: 'cgroup', what: dir, undo: () => cg.remove() });
    if (!existsSync(join(dir, 'memory.stat'))) {
      throw new EnvironmentError(`cgroup v2: ${dir} has no memory controller (memory is not in ${dirname(dir)}/cgroup.subtree_control)`);
    }
    return cg;
  }

  /** Moves the main thread (v1) or the process (v2) into this cgroup: sockets it creates are charged here. */
  enter(): void {
    if (this.loc.mode === 'v1') writeFileSync(join(this.dir, 'tasks'), String(TID));
    else writeFileSync(join(this.dir, 'cgroup.procs'), String(process.pid));
  }

  leave(): void {
    const file = this.loc.mode === 'v1' ? 'tasks' : 'cgroup.procs';
    if (!existsSync(join(this.dir, file))) return;
    const members = readFileSync(join(this.dir, file), 'utf8').split('\n');
    const me = String(this.loc.mode === 'v1' ? TID : process.pid);
    if (members.includes(me)) writeFileSync(join(this.loc.parent, file), me);
  }

  private remove(): void {
    this.leave();
    if (existsSync(this.dir)) rmdirSync(this.dir);
  }

  /** Bytes (whole pages) charged to this cgroup by its sockets: v1 kmem.tcp usage, v2 memory.stat "sock". */
  sockBytes(): number {
    if (this.loc.mode === 'v1') return Number(readFileSync(join(this.dir, 'memory.kmem.tcp.usage_in_bytes'), 'utf8').trim());
    const stat = readFileSync(join(this.dir, 'memory.stat'), 'utf8');
    const m = /^sock (\d+)$/m.exec(stat);
    if (!m) throw new EnvironmentError(`cgroup v2: no "sock" line in ${this.dir}/memory.stat`);
    return Number(m[1]);
  }
}
