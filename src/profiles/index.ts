// The five kernel profiles. Each is one strategy object; what differs between versions lives
// here and in the strategies it names, never in version tests inside the model.
import { UsageError } from '../cli/errors.ts';
import { kmallocHeads, smallHeadCache } from './head_alloc.ts';
import { memAccountingV5, memAccountingV6 } from './mem_accounting.ts';
import { policyP0, policyP1, policyP2, policyP2Fixed } from './pure_policy.ts';
import { rcvWindowAdvWinScale, rcvWindowScalingRatio } from './rcv_window.ts';
import { tcpOutput5x, tcpOutput618 } from './tcp_output_rules.ts';
import type { KernelConfig, KernelProfile, NetSysctls, ProfileName } from './types.ts';

/** A distro-like build: MAX_HEADER 176 (Hyper-V netvsc built in, tunnels) => MAX_TCP_HEADER 320. */
/** RLIMIT_MEMLOCK default MLOCK_LIMIT: 8 MiB since 5.16 ("mm: Make MLOCK_LIMIT 8MiB"), 64 KiB before. */
const TYPICAL_CONFIG: KernelConfig = { max_tcp_header: 320, max_header: 176, nr_cpus: 2, cap_ipc_lock: true, rlimit_memlock: 8 << 20 };
const TYPICAL_CONFIG_515: KernelConfig = { ...TYPICAL_CONFIG, rlimit_memlock: 64 << 10 };

/**
 * Defaults of a host with 24 GiB of RAM (tcp_mem from tcp_init_mem(): 4.68% / 6.25% / 9.37% of
 * nr_free_buffer_pages, as on the machine skmem is validated on).
 */
const SYSCTLS_5X: NetSysctls = {
  'net.core.optmem_max': 20480, // sizeof(unsigned long) * (2 * UIO_MAXIOV + 512)
  'net.core.wmem_max': 212992,
  'net.core.max_skb_frags': 17,
  'net.core.high_order_alloc_disable': 0,
  'net.core.mem_pcpu_rsv': 0, // no per-CPU reserve before 6.0
  'net.ipv4.tcp_wmem': [4096, 16384, 4194304],
  'net.ipv4.tcp_rmem': [4096, 131072, 6291456],
  'net.ipv4.tcp_mem': [287898, 383865, 575796],
  'net.ipv4.tcp_autocorking': 1,
  'net.ipv4.tcp_notsent_lowat': 0xffffffff,
  'net.ipv4.tcp_limit_output_bytes': 1 << 20, // tcp_sk_init(), 5.17
};

const SYSCTLS_618: NetSysctls = {
  ...SYSCTLS_5X,
  'net.core.optmem_max': 131072, // 4944566706b2 (6.8): 128 KiB, per netns
  // net/core/sock.c: sysctl_wmem_max = 4 << 20 in 6.18 (the reference's 212992 is the 5.x
  // SK_WMEM_MAX default; the source wins), and tcp_init() sets tcp_rmem[2] = min(32 MiB, limit).
  'net.core.wmem_max': 4 << 20,
  'net.ipv4.tcp_rmem': [4096, 131072, 32 << 20],
  'net.core.mem_pcpu_rsv': 256, // SK_MEMORY_PCPU_RESERVE, also the sysctl's minimum
  'net.ipv4.tcp_limit_output_bytes': 4 << 20, // tcp_sk_init(), 6.18
};

const p0Summary =
  'Before "net: avoid double accounting for pure zerocopy skbs": MSG_ZEROCOPY pages are charged to sk_forward_alloc, tcp_memory_allocated and the memcg like copied data (the user already pays for them: double accounting).';

export const PROFILES: Record<ProfileName, KernelProfile> = {
  '5.15': {
    name: '5.15', title: '5.15 (before the change: double accounting)', release: '5.15.0-skmem-model',
    summary: p0Summary, sysctlDefaults: SYSCTLS_5X, configDefaults: TYPICAL_CONFIG_515,
    head: kmallocHeads, mem: memAccountingV5, zerocopy: policyP0, removeEmptySkbOnWait: false, killQueuesWarnsFwd: true, splicePagesPerCall: 1, memlockInfinityBypass: false, growSkb: false, rcv: rcvWindowAdvWinScale, output: tcpOutput5x, spliceViaSendpage: true,
  },
  '5.16-v1': {
    name: '5.16-v1', title: '5.16-v1 (f1a456f8f3fc, reverted by 84882cf72cd7)', release: '5.16.0-rc0-v1-skmem-model',
    summary: 'The first version of the change: pure zerocopy skbs are not charged, but tcp_stream_alloc_skb() forces truesize = SKB_TRUESIZE(MAX_TCP_HEADER) (896 instead of the real 1280 on a typical config), and the downgrade charges data_len instead of the page-aligned truesize; sendpage onto a pure skb keeps it pure.',
    sysctlDefaults: SYSCTLS_5X, configDefaults: TYPICAL_CONFIG,
    head: kmallocHeads, mem: memAccountingV5, zerocopy: policyP1, removeEmptySkbOnWait: false, killQueuesWarnsFwd: true, splicePagesPerCall: 1, memlockInfinityBypass: false, growSkb: false, rcv: rcvWindowAdvWinScale, output: tcpOutput5x, spliceViaSendpage: true,
  },
  '5.16': {
    name: '5.16', title: '5.16 (9b65b17db723, as landed)', release: '5.16.0-skmem-model',
    summary: 'The landed change: pure zerocopy skbs are not charged and uncharge only SKB_TRUESIZE(skb_end_offset). Still has the data_len downgrade (fixed by 479f5547239d) and the sendpage-onto-pure bug (fixed by f8d9d938514f).',
    sysctlDefaults: SYSCTLS_5X, configDefaults: TYPICAL_CONFIG,
    head: kmallocHeads, mem: memAccountingV5, zerocopy: policyP2, removeEmptySkbOnWait: false, killQueuesWarnsFwd: true, splicePagesPerCall: 1, memlockInfinityBypass: false, growSkb: false, rcv: rcvWindowAdvWinScale, output: tcpOutput5x, spliceViaSendpage: true,
  },
  '5.17': {
    name: '5.17', title: '5.17 (with the three follow-up fixes)', release: '5.17.0-skmem-model',
    summary: 'The landed change plus 479f5547239d (downgrade charges truesize - head), f8d9d938514f (sendpage downgrades a pure skb) and the tcp_shift_skb_data() collapse check.',
    sysctlDefaults: SYSCTLS_5X, configDefaults: TYPICAL_CONFIG,
    head: kmallocHeads, mem: memAccountingV5, zerocopy: policyP2Fixed, removeEmptySkbOnWait: false, killQueuesWarnsFwd: true, splicePagesPerCall: 1, memlockInfinityBypass: false, growSkb: false, rcv: rcvWindowAdvWinScale, output: tcpOutput5x, spliceViaSendpage: true,
  },
  '6.18': {
    name: '6.18', title: '6.18 (small-head cache, eager reclaim, per-CPU reserve)', release: '6.18.0-skmem-model',
    summary: 'The pure-zerocopy rules of 5.17 with the 6.x accounting around them: skb heads from skb_small_head_cache, delta scheduling, reclaim on every uncharge, tcp_wmem_schedule(), per-CPU tcp_memory_allocated reserve, optmem_max 128 KiB per netns.',
    sysctlDefaults: SYSCTLS_618, configDefaults: TYPICAL_CONFIG,
    head: smallHeadCache, mem: memAccountingV6, zerocopy: policyP2Fixed, removeEmptySkbOnWait: true, killQueuesWarnsFwd: false, splicePagesPerCall: 16, memlockInfinityBypass: true, growSkb: true, rcv: rcvWindowScalingRatio, output: tcpOutput618, spliceViaSendpage: false,
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function getProfile(name: string): KernelProfile {
  const p = (PROFILES as Record<string, KernelProfile>)[name];
  if (p === undefined) {
    throw new UsageError(`unknown kernel profile "${name}" (expected one of ${PROFILE_NAMES.join(', ')}, or auto)`);
  }
  return p;
}

/**
 * Resolves the build facts: profile defaults, then overrides. Given MAX_TCP_HEADER alone,
 * MAX_HEADER is taken as MAX_TCP_HEADER - 160, which yields the same small-head cache size as
 * every real config (MAX_TCP_HEADER = L1_CACHE_ALIGN(128 + MAX_HEADER)).
 */
export function resolveConfig(profile: KernelProfile, overrides: Partial<KernelConfig>): KernelConfig {
  const cfg = { ...profile.configDefaults, ...overrides };
  if (overrides.max_tcp_header !== undefined && overrides.max_header === undefined) {
    cfg.max_header = Math.max(0, overrides.max_tcp_header - 160);
  }
  if (overrides.max_header !== undefined && overrides.max_tcp_header === undefined) {
    cfg.max_tcp_header = Math.ceil((128 + overrides.max_header) / 64) * 64;
  }
  return cfg;
}
