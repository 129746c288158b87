// `--set key=value`: overrides of kernel config facts and sysctls, validated with one clear
// message per bad key or value.
import { UsageError } from '../../cli/errors.ts';
import type { KernelConfig, NetSysctls } from '../../profiles/types.ts';
import { parseSize } from '../../scenario/schema.ts';

export type Overrides = Record<string, string>;

const CONFIG_KEYS: Record<keyof KernelConfig, 'int' | 'bool'> = {
  max_tcp_header: 'int', max_header: 'int', nr_cpus: 'int', cap_ipc_lock: 'bool', rlimit_memlock: 'int',
};
const TRIPLE_SYSCTLS = ['net.ipv4.tcp_wmem', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_mem'];
const INT_SYSCTLS = [
  'net.core.optmem_max', 'net.core.wmem_max', 'net.core.max_skb_frags', 'net.core.high_order_alloc_disable',
  'net.core.mem_pcpu_rsv', 'net.ipv4.tcp_autocorking', 'net.ipv4.tcp_notsent_lowat', 'net.ipv4.tcp_limit_output_bytes',
];

/** Parses repeated `--set k=v` flags into a map (later ones win). */
export function parseSetFlags(flags: string[]): Overrides {
  const out: Overrides = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${f}: expected key=value (e.g. --set max_tcp_header=192)`);
    out[f.slice(0, eq).trim()] = f.slice(eq + 1).trim();
  }
  return out;
}

function int(key: string, v: string): number {
  const n = parseSize(v);
  if (n === null) throw new UsageError(`--set ${key}=${v}: expected a non-negative integer`);
  return n;
}

export function applyOverrides(o: Overrides, cfg: Partial<KernelConfig>, sysctl: NetSysctls): void {
  for (const [key, v] of Object.entries(o)) {
    if (key in CONFIG_KEYS) {
      const kind = CONFIG_KEYS[key as keyof KernelConfig];
      if (kind === 'bool') {
        if (v !== 'true' && v !== 'false') throw new UsageError(`--set ${key}=${v}: expected true or false`);
        (cfg as Record<string, unknown>)[key] = v === 'true';
      } else (cfg as Record<string, unknown>)[key] = int(key, v);
    } else if (TRIPLE_SYSCTLS.includes(key)) {
      const parts = v.split(/[,\s]+/).filter(Boolean);
      if (parts.length !== 3) throw new UsageError(`--set ${key}=${v}: expected three integers, e.g. 4096,16384,4194304`);
      (sysctl as unknown as Record<string, unknown>)[key] = parts.map((p) => int(key, p));
    } else if (INT_SYSCTLS.includes(key)) {
      (sysctl as unknown as Record<string, unknown>)[key] = int(key, v);
    } else {
      throw new UsageError(`--set ${key}: unknown key (expected a config fact: ${Object.keys(CONFIG_KEYS).join(', ')}; or a sysctl: ${[...INT_SYSCTLS, ...TRIPLE_SYSCTLS].join(', ')})`);
    }
  }
}
