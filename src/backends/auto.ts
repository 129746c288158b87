// `--kernel auto`: the profile and config closest to this machine's kernel, from kernel-info.
import type { Overrides } from './model/overrides.ts';
import type { ProfileName } from '../profiles/types.ts';

export interface AutoChoice {
  kernel: ProfileName;
  overrides: Overrides;
  reason: string;
}

/** Picks by release (5.16 and 5.17 are their own generations; every 6.x maps to 6.18). */
export async function autoKernel(): Promise<AutoChoice> {
  const { kernelInfo } = await import('./live/index.ts');
  const info = kernelInfo();
  const m = /^(\d+)\.(\d+)/.exec(info.release);
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [6, 18];
  const kernel: ProfileName = major >= 6 ? '6.18' : minor >= 17 ? '5.17' : minor === 16 ? '5.16' : '5.15';
  const overrides: Overrides = { nr_cpus: String(info.nr_cpus) };
  if (info.max_tcp_header !== null) overrides.max_tcp_header = String(info.max_tcp_header);
  // Global sysctls the live run inherits from the host (not per network namespace).
  const wmemMax = info.sysctl['net.core.wmem_max'];
  if (wmemMax !== null) overrides['net.core.wmem_max'] = String(wmemMax);
  const tcpMem = info.sysctl['net.ipv4.tcp_mem'];
  if (tcpMem !== null) overrides['net.ipv4.tcp_mem'] = tcpMem.join(',');
  // A new network namespace starts with init_net's tcp_rmem/tcp_wmem (tcp_sk_init copies them).
  for (const key of ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'] as const) {
    const v = info.sysctl[key];
    if (v !== null) overrides[key] = v.join(',');
  }
  return { kernel, overrides, reason: `release ${info.release}, MAX_TCP_HEADER ${info.max_tcp_header ?? 'unknown'}` };
}
