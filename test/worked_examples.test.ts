// The worked examples A-D of the accounting reference (§5.4), byte for byte, under their
// profiles (typical config: H = 1280 / 896 (5.16-v1) / 960 (6.18), N = 768 / 960).
import { describe, expect, it } from 'vitest';
import { runModel } from '../src/backends/model/run.ts';
import { parseScenarioText } from '../src/scenario/parse.ts';

function run(yaml: string, kernel: string) {
  return runModel(parseScenarioText(yaml, 'inline.yaml'), { kernel });
}

const EXAMPLE_A = `
name: example_a
connection: { start: zero_window, receiver: { rcvbuf: 262144 } }
sender: { so_zerocopy: true }
steps:
  - send: { len: 65435, zerocopy: true }
  - drain:
`;

describe('worked example A: one send(MSG_ZEROCOPY, 65435), not yet acked', () => {
  // The reference uses MSS 1448 / size_goal 65160; on loopback size_goal is one MSS (65483),
  // so the same 65435 bytes fit one skb of 16 pages: rows are re-derived with the same rules.
  const cases: [string, number, number, number, number][] = [
    // profile, fwd, wq, memcg pages, optmem
    ['5.15', 4096 + 16 * 4096 - 1280 - 65536, 1280 + 65536, 17, 768], // sched(65435)=16 pages on top of the forced one
    ['5.16-v1', 4096 - 896, 896 + 65536, 1, 768],
    ['5.16', 4096 - 1280, 1280 + 65536, 1, 768],
    ['5.17', 4096 - 1280, 1280 + 65536, 1, 768],
    ['6.18', 4096 - 960, 960 + 65536, 1, 960],
  ];
  for (const [k, fwd, wq, pages, optmem] of cases) {
    it(`${k}: fwd ${fwd}, wq ${wq}, ${pages} pages, optmem ${optmem}`, () => {
      const s = run(EXAMPLE_A, k).steps[0];
      expect(s.result).toEqual({ ret: 65435 });
      expect(s.meminfo.fwd_alloc).toBe(fwd);
      expect(s.meminfo.wmem_queued).toBe(wq);
      expect(s.memcg_sock_bytes).toBe(pages * 4096);
      expect(s.tcp_mem_pages).toBe(pages);
      expect(s.meminfo.optmem).toBe(optmem);
    });
  }
  it('after everything is acked: 6.18 reclaims at once, 5.x keeps the pages (lazy reclaim)', () => {
    expect(run(EXAMPLE_A, '6.18').steps[1].meminfo.fwd_alloc).toBe(0);
    expect(run(EXAMPLE_A, '5.17').steps[1].meminfo.fwd_alloc).toBe(4096);
    expect(run(EXAMPLE_A, '5.15').steps[1].meminfo.fwd_alloc).toBe(17 * 4096);
    const n = run(EXAMPLE_A, '6.18').steps[1].notifications;
    expect(n).toEqual([{ lo: 0, hi: 0, code: 1 }]);
  });
});

describe('worked example A with the reference size_goal (two skbs)', () => {
  // 65160 + 275 bytes: force the second skb with MSG_EOR after exactly 65160 bytes.
  const yaml = `
name: example_a_two_skbs
connection: { start: zero_window, receiver: { rcvbuf: 262144 } }
sender: { so_zerocopy: true }
steps:
  - send: { len: 65160, zerocopy: true, flags: [MSG_EOR] }
  - send: { len: 275, zerocopy: true, contiguous: true }
`;
  const cases: [string, number, number, number][] = [
    ['5.15', -2560, 72192, 17],
    ['5.16-v1', 2304, 71424, 1],
    ['5.16', 1536, 72192, 1],
    ['5.17', 1536, 72192, 1],
    ['6.18', 2176, 71552, 1],
  ];
  for (const [k, fwd, wq, pages] of cases) {
    it(`${k}: fwd ${fwd}, wq ${wq}, ${pages} pages (§5.4 table)`, () => {
      const s = run(yaml, k).steps[1];
      expect([s.meminfo.fwd_alloc, s.meminfo.wmem_queued, s.tcp_mem_pages]).toEqual([fwd, wq, pages]);
    });
  }
});

const EXAMPLE_B = `
name: example_b
connection: { start: zero_window, receiver: { rcvbuf: 262144 } }
sender: { so_zerocopy: true }
steps:
  - send: { len: 1, zerocopy: true }
  - send: { len: 10 }
  - close:
  - drain:
`;

describe('worked example B: pure skb downgraded by a later copy', () => {
  it('5.17 / 6.18: the downgrade charges truesize - H = 4096, balanced at destruction', () => {
    const s517 = run(EXAMPLE_B, '5.17');
    expect(s517.steps[1].meminfo.fwd_alloc).toBe(4086 - 1280);
    expect(s517.steps[1].meminfo.wmem_queued).toBe(1280 + 4106);
    expect(s517.warnings).toEqual([]);
    const s618 = run(EXAMPLE_B, '6.18');
    expect(s618.steps[1].meminfo.fwd_alloc).toBe(4086 - 960);
    expect(s618.steps[1].memcg_sock_bytes).toBe(8192);
    expect(s618.warnings).toEqual([]);
  });
  it('5.16: charging data_len leaves 4095 bytes and fires the forward-alloc WARN', () => {
    const o = run(EXAMPLE_B, '5.16');
    expect(o.steps[1].meminfo.fwd_alloc).toBe(4096 - 1280 - 1 - 10);
    expect(o.warnings.map((w) => w.check)).toContain('WARN_ON(sk_forward_alloc_get(sk)) in inet_sock_destruct()');
    expect(o.warnings.find((w) => w.check.includes('forward_alloc'))?.message).toContain('sk_forward_alloc = 4095');
  });
});

describe('worked example C: copy 100 bytes, then zerocopy 1 byte into the same skb', () => {
  const yaml = `
name: example_c
connection: { start: zero_window, receiver: { rcvbuf: 262144 } }
sender: { so_zerocopy: true }
steps:
  - send: { len: 100 }
  - send: { len: 1, zerocopy: true }
`;
  it('5.x: fwd = -(H + 100) = -1380', () => {
    for (const k of ['5.15', '5.16', '5.17']) expect(run(yaml, k).steps[1].meminfo.fwd_alloc).toBe(-1380);
  });
  it('6.18 on this VM (max_tcp_header 192): fwd -932, wq 5028 (measured, §8)', () => {
    const o = runModel(parseScenarioText(yaml, 'c.yaml'), { kernel: '6.18', overrides: { max_tcp_header: '192' } });
    expect(o.steps[1].meminfo.fwd_alloc).toBe(-932);
    expect(o.steps[1].meminfo.wmem_queued).toBe(5028);
  });
});

describe('worked example D: sendpage / splice of 100 bytes onto a pure skb', () => {
  const yaml = `
name: example_d
connection: { start: zero_window, receiver: { rcvbuf: 262144 } }
sender: { so_zerocopy: true }
steps:
  - send: { len: 1, zerocopy: true }
  - sendfile: { len: 100 }
  - close:
  - drain:
`;
  it('5.16-v1 and 5.16 keep the skb pure: fwd 4096 - 100 = 3996 at destruction, WARN, one page leaked', () => {
    for (const k of ['5.16-v1', '5.16']) {
      const o = run(yaml, k);
      expect(o.warnings.map((w) => w.message).join(' ')).toContain('sk_forward_alloc = 3996');
      expect(o.final.memcg_sock_bytes).toBe(4096);
    }
  });
  it('5.17 and 6.18 downgrade first (f8d9d938514f): balanced, nothing leaked', () => {
    for (const k of ['5.17', '6.18']) {
      const o = run(yaml, k);
      expect(o.warnings).toEqual([]);
      expect(o.final.memcg_sock_bytes).toBe(0);
    }
  });
  it('5.15 has no pure skbs: balanced', () => {
    expect(run(yaml, '5.15').warnings).toEqual([]);
  });
});

describe('--explain: the accounting trail says why', () => {
  it('example D on 5.16: the pure skb is not downgraded by the splice, and its free uncharges only the head', () => {
    const yaml = 'name: d\nconnection: { start: zero_window }\nsender: { so_zerocopy: true }\nsteps:\n  - send: { len: 1, zerocopy: true }\n  - sendfile: { len: 100 }\n  - drain:\n';
    const o = runModel(parseScenarioText(yaml, 'd.yaml'), { kernel: '5.16', explain: true });
    const fns = (i: number) => (o.steps[i].explain ?? []).map((e) => e.fn);
    expect(fns(0)).toEqual(['msg_zerocopy_alloc', 'tcp_stream_alloc_skb', 'sk_forced_mem_schedule', 'tcp_skb_entail', 'tcp_sendmsg_locked', 'skb_zerocopy_iter_stream']);
    expect(fns(1)).toEqual(['tcp_build_frag', 'skb_splice_from_iter']);
    const free = o.steps[2].explain?.find((e) => e.fn === 'tcp_wmem_free_skb');
    expect(free?.what).toContain('only the head is uncharged');
    expect(free?.fwd_alloc).toBe(3996);
    const o517 = runModel(parseScenarioText(yaml, 'd.yaml'), { kernel: '5.17', explain: true });
    expect((o517.steps[1].explain ?? []).map((e) => e.fn)).toContain('tcp_downgrade_zcopy_pure');
  });
  it('ENOBUFS names optmem_max', () => {
    const yaml = 'name: e\nsysctl: { net.core.optmem_max: 1000 }\nconnection: { start: zero_window }\nsender: { so_zerocopy: true }\nsteps:\n  - send: { len: 1, zerocopy: true, flags: [MSG_EOR] }\n  - send: { len: 1, flags: [MSG_EOR] }\n  - send: { len: 1, zerocopy: true }\n';
    const o = runModel(parseScenarioText(yaml, 'e.yaml'), { kernel: '6.18', explain: true });
    expect(o.steps[0].result).toEqual({ ret: 1 });
    expect(o.steps[2].result).toEqual({ errno: 'ENOBUFS' });
    expect(o.steps[2].explain?.[0].what).toMatch(/^ENOBUFS: optmem 960 \+ SKB_TRUESIZE\(0\) 576 > net.core.optmem_max 1000/);
  });
  it('is off by default', () => {
    const o = runModel(parseScenarioText('name: x\nsteps:\n  - send: { len: 1 }\n', 'x.yaml'));
    expect(o.steps[0].explain).toBeUndefined();
  });
});
