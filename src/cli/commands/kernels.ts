// skmem kernels: the profiles and the constants each one implies.
import type { Command } from 'commander';
import { SKB_TRUESIZE } from '../../model/skb_geometry.ts';
import { PROFILE_NAMES, PROFILES } from '../../profiles/index.ts';
import type { KernelProfile } from '../../profiles/types.ts';
import { renderTable } from '../../report/table.ts';

export function profileFacts(p: KernelProfile) {
  const cfg = p.configDefaults;
  const H = p.zerocopy.allocTruesize(p.head.endOffset(cfg.max_tcp_header, cfg), 0, cfg);
  const N = SKB_TRUESIZE(p.head.endOffset(0, cfg));
  return {
    profile: p.name, title: p.title, policy: p.zerocopy.name, head_allocator: p.head.name, accounting: p.mem.name,
    head_truesize_H: H, notification_truesize_N: N, pure_free_uncharge: p.zerocopy.marksPure ? 'see policy' : 'n/a',
    optmem_max: p.sysctlDefaults['net.core.optmem_max'], tcp_wmem: p.sysctlDefaults['net.ipv4.tcp_wmem'],
    mem_pcpu_rsv: p.sysctlDefaults['net.core.mem_pcpu_rsv'], config: cfg, summary: p.summary,
  };
}

export function registerKernels(program: Command): void {
  program
    .command('kernels')
    .description('list the kernel profiles and their constants (typical config)')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      const facts = PROFILE_NAMES.map((n) => profileFacts(PROFILES[n]));
      if (o.json) {
        process.stdout.write(`${JSON.stringify(facts, null, 2)}\n`);
        return;
      }
      const rows = facts.map((f) => [f.profile, f.policy, String(f.head_truesize_H), String(f.notification_truesize_N), String(f.optmem_max), String(f.mem_pcpu_rsv), f.head_allocator]);
      process.stdout.write(`${renderTable(rows, ['profile', 'policy', 'H', 'N', 'optmem_max', 'pcpu_rsv', 'skb heads'])}\n\n`);
      for (const f of facts) process.stdout.write(`${f.title}\n  ${f.summary}\n  accounting: ${f.accounting}\n\n`);
      process.stdout.write('H = truesize of a TCP tx skb head, N = truesize of a zerocopy notification skb (optmem per ubuf_info),\nfor the typical config (MAX_TCP_HEADER 320); override with --set max_tcp_header=192 on the other commands.\n');
    });
}
