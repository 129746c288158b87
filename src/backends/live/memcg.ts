// The sender's exact page charge: a child memory cgroup that holds only the sender socket.
// cgroup v1: writing memory.kmem.tcp.limit_in_bytes switches TCP accounting on for the cgroup
// (memcg1 tcpmem_active); sockets created by a task in it are charged page by page to
// memory.kmem.tcp.usage_in_bytes, in step with tcp_memory_allocated (mm/memcontrol-v1.c
// memcg1_charge_skmem, net/core/sock.c __sk_mem_raise_allocated). cgroup v2: memory.stat
// "sock" of a leaf cgroup is the same quantity.
// Only the calling (main) thread moves in, and only while the sender socket is created.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    if (loc.mode === 'v2') {
      // A v2 cgroup with processes cannot have children with controllers; the process's own
      // cgroup normally has processes, so v2 is supported only where that is not the case.
      throw new EnvironmentError('cgroup v2 memory accounting is not supported by the live backend yet (this host has no cgroup v1 memory controller)');
    }
    const dir = join(loc.parent, name);
    try {
      mkdirSync(dir);
    } catch (e) {
      throw new EnvironmentError(`cannot create memory cgroup ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const cg = new Memcg(loc, dir);
    journal.add({
      kind: 'cgroup',
      what: dir,
      undo: () => {
        cg.leave();
        if (existsSync(dir)) rmdirSync(dir);
      },
    });
    // Any write activates TCP accounting; the value only has to be large enough never to bite.
    writeFileSync(join(dir, 'memory.kmem.tcp.limit_in_bytes'), String(1 << 30));
    return cg;
  }

  /** Moves the main thread into this cgroup (sockets it creates are charged here). */
  enter(): void {
    writeFileSync(join(this.dir, 'tasks'), String(TID));
  }

  leave(): void {
    const tasks = readFileSync(join(this.dir, 'tasks'), 'utf8').split('\n');
    if (tasks.includes(String(TID))) writeFileSync(join(this.loc.parent, 'tasks'), String(TID));
  }

  /** Bytes (whole pages) charged to this cgroup by its sockets. */
  sockBytes(): number {
    return Number(readFileSync(join(this.dir, 'memory.kmem.tcp.usage_in_bytes'), 'utf8').trim());
  }
}
