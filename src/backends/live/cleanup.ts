// A journal of everything a live run creates or changes on the host (network namespaces,
// memory cgroups, tracefs instances and mounts, host sysctls with their old values). Undone
// in reverse order on success, on error and on SIGINT/SIGTERM. Host sysctl changes are also
// written to a state file so that a later run's startup sweep can restore them if this
// process was killed outright (SIGKILL cannot be caught).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const STATE_DIR = '/run/skmem';
export const NAME_PREFIX = 'skmem-';

export interface JournalEntry {
  kind: 'netns' | 'cgroup' | 'trace_instance' | 'tracefs_mount' | 'sysctl' | 'other';
  what: string;
  /** Old value of a host sysctl, to restore. */
  old?: string;
  undo: () => void;
}

/** Unique names skmem-<pid>-<n> for one process. */
let counter = 0;
export function uniqueName(): string {
  counter += 1;
  return `${NAME_PREFIX}${process.pid}-${counter}`;
}

export class Journal {
  private entries: JournalEntry[] = [];
  private readonly stateFile: string;
  readonly errors: string[] = [];

  constructor(readonly runName: string) {
    this.stateFile = join(STATE_DIR, `${runName}.json`);
  }

  add(entry: JournalEntry): void {
    this.entries.push(entry);
    if (entry.kind === 'sysctl') this.persist();
  }

  /** Undoes every entry, newest first. Never throws: failures are collected in `errors`. */
  undoAll(): void {
    while (this.entries.length > 0) {
      const e = this.entries.pop()!;
      try {
        e.undo();
      } catch (err) {
        this.errors.push(`could not undo ${e.kind} ${e.what}: ${(err as Error).message}`);
      }
    }
    try {
      rmSync(this.stateFile, { force: true });
    } catch {
      /* nothing to remove */
    }
  }

  get size(): number {
    return this.entries.length;
  }

  private persist(): void {
    const sysctls = this.entries.filter((e) => e.kind === 'sysctl').map((e) => ({ path: e.what, old: e.old }));
    try {
      mkdirSync(STATE_DIR, { recursive: true });
      writeFileSync(this.stateFile, JSON.stringify({ pid: process.pid, sysctls }));
    } catch (err) {
      this.errors.push(`could not write ${this.stateFile}: ${(err as Error).message}`);
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** pid in a name skmem-<pid>-<n>, or null. */
function ownerPid(name: string): number | null {
  const m = /^skmem-(\d+)-\d+(?:\.json)?$/.exec(name);
  return m ? Number(m[1]) : null;
}

function isStale(name: string): boolean {
  const pid = ownerPid(name);
  return pid !== null && pid !== process.pid && !pidAlive(pid);
}

/**
 * Removes leftovers of runs whose process is gone: namespaces, cgroups and trace instances
 * named skmem-<pid>-*, and restores host sysctls from their state files. Returns what it did.
 */
export function sweepStale(cgroupParent: string | null, tracefs: string | null): string[] {
  const done: string[] = [];
  if (existsSync(STATE_DIR)) {
    for (const f of readdirSync(STATE_DIR)) {
      if (!isStale(f)) continue;
      try {
        const st = JSON.parse(readFileSync(join(STATE_DIR, f), 'utf8')) as { sysctls: { path: string; old?: string }[] };
        for (const s of st.sysctls.reverse()) {
          if (s.old !== undefined) writeFileSync(s.path, s.old);
          done.push(`restored ${s.path}`);
        }
        rmSync(join(STATE_DIR, f), { force: true });
      } catch {
        /* a broken state file: leave it for a human */
      }
    }
  }
  if (existsSync('/run/netns')) {
    for (const ns of readdirSync('/run/netns')) {
      if (!isStale(ns)) continue;
      spawnSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      done.push(`deleted netns ${ns}`);
    }
  }
  if (cgroupParent && existsSync(cgroupParent)) {
    for (const d of readdirSync(cgroupParent)) {
      if (!isStale(d)) continue;
      try {
        rmdirSync(join(cgroupParent, d));
        done.push(`removed cgroup ${d}`);
      } catch {
        /* still populated */
      }
    }
  }
  if (tracefs && existsSync(join(tracefs, 'instances'))) {
    for (const d of readdirSync(join(tracefs, 'instances'))) {
      if (!isStale(d)) continue;
      try {
        rmdirSync(join(tracefs, 'instances', d));
        done.push(`removed trace instance ${d}`);
      } catch {
        /* busy */
      }
    }
  }
  return done;
}

/**
 * Runs `body` with SIGINT/SIGTERM handlers that undo the journal and exit 130/143.
 * The handlers are removed afterwards; the journal is undone whatever happens.
 */
export async function withJournal<T>(journal: Journal, body: () => Promise<T>): Promise<T> {
  const onSignal = (sig: NodeJS.Signals) => {
    journal.undoAll();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    journal.undoAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
