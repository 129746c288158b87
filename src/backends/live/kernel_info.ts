// Facts about the running kernel that the model's profile needs (and that `--kernel auto`
// turns into a profile): release, MAX_TCP_HEADER, skb slab object sizes, the relevant
// sysctls, CPU count and the cgroup mode. Read from the host's (this process's) namespace.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { ownMemcg, type CgroupMode } from './memcg.ts';

export interface KernelInfo {
  release: string;
  /** "maxhdr" column of TCP in /proc/net/protocols (MAX_TCP_HEADER). */
  max_tcp_header: number | null;
  /** Object sizes from /proc/slabinfo; null when a cache is merged into another (not listed). */
  slab: {
    skbuff_small_head: number | null;
    skbuff_head_cache: number | null;
    skbuff_fclone_cache: number | null;
  };
  sysctl: {
    'net.core.optmem_max': number | null;
    'net.core.wmem_max': number | null;
    'net.core.wmem_default': number | null;
    'net.core.max_skb_frags': number | null;
    'net.core.mem_pcpu_rsv': number | null;
    'net.ipv4.tcp_wmem': number[] | null;
    'net.ipv4.tcp_rmem': number[] | null;
    'net.ipv4.tcp_mem': number[] | null;
    'net.ipv4.tcp_congestion_control': string | null;
  };
  nr_cpus: number;
  cgroup_mode: CgroupMode | null;
  /** Where facts could not be read, why. */
  unknown: Record<string, string>;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** MAX_TCP_HEADER from the "maxhdr" column of /proc/net/protocols. */
export function maxTcpHeader(): number | null {
  const text = readText('/proc/net/protocols');
  if (text === null) return null;
  const lines = text.trim().split('\n');
  const header = lines[0].split(/\s+/);
  const col = header.indexOf('maxhdr');
  if (col < 0) return null;
  for (const line of lines.slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[0] === 'TCP') return Number(cols[col]);
  }
  return null;
}

function slabObjSize(text: string | null, cache: string): number | null {
  if (text === null) return null;
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[0] === cache) return Number(cols[3]);
  }
  return null;
}

function sysctlNum(name: string): number | null {
  const t = readText(`/proc/sys/${name.replace(/\./g, '/')}`);
  return t === null ? null : Number(t.trim());
}
function sysctlList(name: string): number[] | null {
  const t = readText(`/proc/sys/${name.replace(/\./g, '/')}`);
  return t === null ? null : t.trim().split(/\s+/).map(Number);
}

export function kernelInfo(): KernelInfo {
  const unknown: Record<string, string> = {};
  const slabText = readText('/proc/slabinfo');
  if (slabText === null) unknown.slab = '/proc/slabinfo is not readable (needs root)';
  const slab = {
    skbuff_small_head: slabObjSize(slabText, 'skbuff_small_head'),
    skbuff_head_cache: slabObjSize(slabText, 'skbuff_head_cache'),
    skbuff_fclone_cache: slabObjSize(slabText, 'skbuff_fclone_cache'),
  };
  if (slabText !== null) {
    for (const [k, v] of Object.entries(slab)) {
      if (v === null) {
        const merged = existsSync(`/sys/kernel/slab/${k}`) ? ' (merged into another slab cache; see /sys/kernel/slab)' : '';
        unknown[`slab.${k}`] = `not listed in /proc/slabinfo${merged}`;
      }
    }
  }
  const max_tcp_header = maxTcpHeader();
  if (max_tcp_header === null) unknown.max_tcp_header = '/proc/net/protocols has no TCP maxhdr column';
  const cc = readText('/proc/sys/net/ipv4/tcp_congestion_control');
  return {
    release: release(),
    max_tcp_header,
    slab,
    sysctl: {
      'net.core.optmem_max': sysctlNum('net.core.optmem_max'),
      'net.core.wmem_max': sysctlNum('net.core.wmem_max'),
      'net.core.wmem_default': sysctlNum('net.core.wmem_default'),
      'net.core.max_skb_frags': sysctlNum('net.core.max_skb_frags'),
      'net.core.mem_pcpu_rsv': sysctlNum('net.core.mem_pcpu_rsv'),
      'net.ipv4.tcp_wmem': sysctlList('net.ipv4.tcp_wmem'),
      'net.ipv4.tcp_rmem': sysctlList('net.ipv4.tcp_rmem'),
      'net.ipv4.tcp_mem': sysctlList('net.ipv4.tcp_mem'),
      'net.ipv4.tcp_congestion_control': cc === null ? null : cc.trim(),
    },
    nr_cpus: availableParallelism(),
    cgroup_mode: ownMemcg()?.mode ?? null,
    unknown,
  };
}
