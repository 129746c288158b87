// skmem kernel-info: the running kernel's facts that a model profile needs.
import type { Command } from 'commander';
import { kernelInfo } from '../../backends/live/kernel_info.ts';

export function registerKernelInfo(program: Command): void {
  program
    .command('kernel-info')
    .description("print this machine's kernel facts (MAX_TCP_HEADER, skb slab sizes, TCP sysctls, cgroup mode)")
    .option('--json', 'print them as JSON')
    .action((o: { json?: boolean }) => {
      const k = kernelInfo();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(k, null, 2)}\n`);
        return;
      }
      const show = (v: unknown) => (v === null ? 'unknown' : Array.isArray(v) ? v.join(' ') : String(v));
      const rows: [string, unknown][] = [
        ['release', k.release],
        ['MAX_TCP_HEADER (maxhdr)', k.max_tcp_header],
        ['slab skbuff_small_head', k.slab.skbuff_small_head],
        ['slab skbuff_head_cache', k.slab.skbuff_head_cache],
        ['slab skbuff_fclone_cache', k.slab.skbuff_fclone_cache],
        ...Object.entries(k.sysctl),
        ['cpus', k.nr_cpus],
        ['cgroup memory controller', k.cgroup_mode],
      ];
      const w = Math.max(...rows.map(([n]) => n.length));
      const lines = rows.map(([n, v]) => `${n.padEnd(w)}  ${show(v)}`);
      for (const [what, why] of Object.entries(k.unknown)) lines.push(`(${what}: ${why})`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
