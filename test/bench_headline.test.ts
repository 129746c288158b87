// The commit's experiment and the pressure study, through the workloads and the CLI.
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { DEFAULT_LINK } from '../src/paths/link.ts';
import { DEFAULT_COSTS, runMsgZerocopy, type ZcOptions } from '../src/workloads/msg_zerocopy.ts';
import { autoTcpMem, runPressure } from '../src/workloads/pressure.ts';

const zc: ZcOptions = {
  kernel: '5.15', family: 'ipv4', runtime_ms: 40, payload: 65435, zerocopy: true, notify_limit: 32, expect_zerocopy: -1,
  link: DEFAULT_LINK, cc: 'cubic', costs: DEFAULT_COSTS, sample_ns: 10_000, series_points: 200,
};

describe('the commit\'s experiment (msg_zerocopy -z, 100 Gbit/s)', () => {
  it('5.15 memcg "sock" is at least 20x 5.16\'s; 6.18 keeps only skb heads', () => {
    const before = runMsgZerocopy(zc);
    const after = runMsgZerocopy({ ...zc, kernel: '5.16' });
    const l = runMsgZerocopy({ ...zc, kernel: '6.18' });
    expect(before.mem.memcg_sock.mean).toBeGreaterThanOrEqual(20 * after.mem.memcg_sock.mean);
    // 5.16: a few pages of skb heads (H = 1280 per queued skb), not the pinned pages
    expect(after.mem.memcg_sock.max).toBeLessThanOrEqual(8 * 4096);
    expect(after.mem.memcg_sock.max).toBeGreaterThan(0);
    // 5.15 charges the pinned pages: of the order of the send buffer
    expect(before.mem.memcg_sock.max).toBeGreaterThan(200 * 1024);
    // the sndbuf asymmetry: SO_SNDBUF 1<<21 is capped by wmem_max (212992 on 5.x, 4 MiB on 6.18)
    expect(before.sndbuf).toBe(425984);
    expect(l.sndbuf).toBe(4194304);
    // 6.x reclaims on every uncharge: fwd stays below a page
    expect(l.mem.fwd_alloc.max).toBeLessThan(4096);
    expect(l.mem.memcg_sock.mean).toBeLessThan(before.mem.memcg_sock.mean / 4);
    // same data path on 5.15 and 5.16: the accounting does not change TCP's behaviour here
    expect(after.txLine).toBe(before.txLine);
  });

  it('with an uncapped SO_SNDBUF (wmem_max 4 MiB) 5.15 holds megabytes, as in the commit', () => {
    const r = runMsgZerocopy({ ...zc, wmem_max: 4 << 20 });
    expect(r.sndbuf).toBe(4194304);
    expect(r.mem.memcg_sock.p50).toBeGreaterThan(1 << 20);
  });
});

describe('many flows under pressure', () => {
  it('the same flows put 5.15 under tcp_mem pressure but not 5.16 or 6.18, and the copy flow suffers on 5.15', () => {
    const o = { zcFlows: 16, copyFlows: 1, runtime_ms: 30, payload: 65435, link: DEFAULT_LINK, cc: 'cubic', tcp_mem: autoTcpMem(16, 1), costs: DEFAULT_COSTS, sample_ns: 10_000, series_points: 100 };
    const r515 = runPressure({ ...o, kernel: '5.15' });
    const r516 = runPressure({ ...o, kernel: '5.16' });
    expect(r515.pressure_ms).toBeGreaterThan(0);
    expect(r516.pressure_ms).toBe(0);
    const copy515 = r515.flows.find((f) => f.kind === 'copy')!;
    const copy516 = r516.flows.find((f) => f.kind === 'copy')!;
    expect(copy515.sndbuf_max).toBeLessThan(copy516.sndbuf_max);
    expect(copy515.gbps).toBeLessThan(copy516.gbps);
    expect(r515.flows).toHaveLength(17);
  });
});

describe('skmem bench CLI', () => {
  it('refuses options it cannot model with exit 2', async () => {
    expect(await main(['bench', 'msg_zerocopy', '-c', '2'])).toBe(2);
    expect(await main(['bench', 'msg_zerocopy', 'udp'])).toBe(2);
    expect(await main(['bench', 'msg_zerocopy', '--link', 'fast'])).toBe(2);
    expect(await main(['bench', 'msg_zerocopy', '-s', '70000'])).toBe(2);
    expect(await main(['bench', 'msg_zerocopy', '-4', '-6'])).toBe(2);
    expect(await main(['bench', 'pressure', '--tcp-mem', '3,2,1'])).toBe(2);
    expect(await main(['bench', 'msg_zerocopy', '--kernel', '4.19'])).toBe(2);
  });
});
