// A private network namespace for one live run: `ip netns add skmem-<pid>-<n>`, loopback up,
// the path's metrics pinned on the namespace's local routes, and setns() of the calling
// (main) thread into it and back. Only the main thread moves: koffi calls and synchronous
// fs calls both run on it, so sockets and /proc/sys/net writes land in the namespace.
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { EnvironmentError } from '../../cli/errors.ts';
import { CLONE_NEWNET, setns } from './libc.ts';
import type { Journal } from './cleanup.ts';

export interface RouteMetrics {
  cwnd_lock?: number;
  initcwnd?: number;
  rto_min_ms?: number;
}

function ip(args: string[], input?: string): void {
  const r = spawnSync('ip', args, { input, encoding: 'utf8' });
  if (r.error) throw new EnvironmentError(`cannot run ip(8): ${r.error.message}`);
  if (r.status !== 0) {
    throw new EnvironmentError(`ip ${args.join(' ')} failed: ${(r.stderr || '').trim().split('\n')[0]}`);
  }
}

function metricArgs(m: RouteMetrics): string {
  const parts: string[] = [];
  if (m.cwnd_lock !== undefined) parts.push(`cwnd lock ${m.cwnd_lock}`);
  if (m.initcwnd !== undefined) parts.push(`initcwnd ${m.initcwnd}`);
  // iproute2 always sets the lock bit of rto_min (tcp_rto_min() honours only a locked one)
  if (m.rto_min_ms !== undefined) parts.push(`rto_min ${m.rto_min_ms}ms`);
  return parts.join(' ');
}

export class NetNs {
  private hostFd = -1;
  private nsFd = -1;
  private inside = false;

  private constructor(readonly name: string) {}

  /** Creates the namespace (journaled), brings lo up and pins the local routes' metrics. */
  static create(name: string, metrics: RouteMetrics, journal: Journal): NetNs {
    const ns = new NetNs(name);
    ip(['netns', 'add', name]);
    journal.add({
      kind: 'netns',
      what: name,
      undo: () => {
        ns.close();
        if (existsSync(`/run/netns/${name}`)) ip(['netns', 'delete', name]);
      },
    });
    const m = metricArgs(metrics);
    ip(['-n', name, '-batch', '-'], [
      'link set lo up',
      `route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 ${m}`,
      `route replace local ::1 dev lo table local proto kernel metric 0 ${m}`,
      '',
    ].join('\n'));
    ns.hostFd = openSync('/proc/thread-self/ns/net', 'r');
    ns.nsFd = openSync(`/run/netns/${name}`, 'r');
    return ns;
  }

  enter(): void {
    if (this.inside) return;
    setns(this.nsFd, CLONE_NEWNET);
    this.inside = true;
  }

  leave(): void {
    if (!this.inside) return;
    setns(this.hostFd, CLONE_NEWNET);
    this.inside = false;
  }

  /** Runs fn in the host namespace, then comes back. */
  onHost<T>(fn: () => T): T {
    const was = this.inside;
    this.leave();
    try {
      return fn();
    } finally {
      if (was) this.enter();
    }
  }

  close(): void {
    try {
      this.leave();
    } finally {
      if (this.nsFd >= 0) closeSync(this.nsFd);
      if (this.hostFd >= 0) closeSync(this.hostFd);
      this.nsFd = this.hostFd = -1;
    }
  }
}

/** /proc/sys path of a dotted sysctl name. */
export function sysctlPath(name: string): string {
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

export function readSysctl(name: string): string {
  return readFileSync(sysctlPath(name), 'utf8').trim();
}

export function formatSysctl(value: number | number[]): string {
  return Array.isArray(value) ? value.join('\t') : String(value);
}

/**
 * Applies scenario sysctls. Ones that exist and are writable inside the namespace are per-netns and written
 * there; the others are global on this kernel and are written on the host with the old value
 * journaled (and restored at the end of the run).
 */
export function applySysctls(ns: NetNs, sysctls: Record<string, number | number[] | undefined>, journal: Journal): string[] {
  const global: string[] = [];
  ns.enter();
  for (const [name, value] of Object.entries(sysctls)) {
    if (value === undefined) continue;
    const path = sysctlPath(name);
    // A child namespace shows some global sysctls read-only (net.core.wmem_max, rmem_max and the
    // ones after them in netns_core_table): those are written on the host.
    if (existsSync(path) && (statSync(path).mode & 0o222) !== 0) writeSysctl(path, name, formatSysctl(value));
    else global.push(name);
  }
  if (global.length > 0) {
    ns.onHost(() => {
      for (const name of global) {
        const path = sysctlPath(name);
        if (!existsSync(path)) throw new EnvironmentError(`sysctl ${name} exists neither in the run's network namespace nor on the host`);
        const old = readFileSync(path, 'utf8').trim();
        journal.add({ kind: 'sysctl', what: path, old, undo: () => ns.onHost(() => writeFileSync(path, old)) });
        writeSysctl(path, name, formatSysctl(sysctls[name]!));
      }
    });
  }
  return global;
}

function writeSysctl(path: string, name: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (e) {
    throw new EnvironmentError(`cannot set sysctl ${name} to ${value.replace(/\t/g, ' ')}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
