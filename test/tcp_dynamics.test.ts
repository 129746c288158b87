// Unit tests of the loopback TCP dynamics (src/tcp, src/paths/loopback.ts) against the live
// 6.18 probe results (zero-window fill per receive buffer) and kernel rules.
import { describe, expect, it } from 'vitest';
import { runModel } from '../src/backends/model/run.ts';
import { parseScenarioText } from '../src/scenario/parse.ts';
import type { Sock } from '../src/model/sock.ts';
import type { LoopbackPath } from '../src/paths/loopback.ts';
import { tcp_select_initial_window, tcp_xmit_size_goal, tcp_bound_to_half_wnd } from '../src/tcp/tcp_output.ts';

const VM = { max_tcp_header: '192', 'net.ipv4.tcp_rmem': '4096,131072,33554432' };

function fill(rcvbuf: number | null, family = 'ipv4'): { sk: Sock; path: LoopbackPath } {
  const recv = rcvbuf === null ? '' : `, receiver: { rcvbuf: ${rcvbuf} }`;
  const yaml = `name: f\nconnection: { start: zero_window, family: ${family}${recv} }\nsteps: []\n`;
  let got: { sk: Sock; path: LoopbackPath } | null = null;
  const peek = { name: 'peek', attach: (v: { sk: Sock; path: LoopbackPath }) => { got = v; }, afterStep: () => {} };
  runModel(parseScenarioText(yaml, 'f.yaml'), { kernel: '6.18', overrides: VM as never, checkers: [peek as never] });
  return got!;
}

describe('zero-window fill (live 6.18 probe: mss, total bytes, receiver rmem)', () => {
  const cases: [number | null, number, number, number | null][] = [
    [null, 47616, 128971, 132299],
    [4096, 2048, 4096, null],
    [16384, 8192, 24576, null],
    [65536, 47417, 127575, null],
    [262144, 65483, 514879, null],
  ];
  for (const [rcvbuf, mss, total, rmem] of cases) {
    it(`SO_RCVBUF ${rcvbuf ?? 'default'}: mss ${mss}, ${total} B`, () => {
      const { sk, path } = fill(rcvbuf);
      expect(sk.mss_cache).toBe(mss);
      expect(sk.snd_una).toBe(total);
      expect(sk.snd_wnd).toBe(0);
      expect([sk.sk_forward_alloc, sk.sk_wmem_queued, sk.mem_pages]).toEqual([0, 0, 0]);
      if (rmem !== null) expect(path.rcv!.rmem_alloc).toBe(rmem);
    });
  }
  it('IPv6 default: 128952 B, mss 47616', () => {
    const { sk } = fill(null, 'ipv6');
    expect(sk.snd_una).toBe(128952);
    expect(sk.mss_cache).toBe(47616);
  });
});

describe('window and segmentation rules', () => {
  it('tcp_select_initial_window: default rcvbuf offers 65483 (MSS multiple), wscale 10 with tcp_rmem[2] 32 MiB', () => {
    expect(tcp_select_initial_window(65536, 65483, 0, 32 << 20, 4 << 20)).toMatchObject({ rcv_wnd: 65483, rcv_wscale: 10 });
    expect(tcp_select_initial_window(4096, 65483, 4096, 32 << 20, 4 << 20)).toEqual({ rcv_wnd: 4096, window_clamp: 4096, rcv_wscale: 0 });
  });
  it('tcp_bound_to_half_wnd and tcp_xmit_size_goal: max_window 95232 => size_goal 47616, gso_segs 1', () => {
    const sk = { max_window: 95232, gso_segs: 0 } as Sock;
    expect(tcp_bound_to_half_wnd(sk, 65483)).toBe(47616);
    expect(tcp_xmit_size_goal(sk, 47616, 65536 - 193)).toBe(47616);
    expect(sk.gso_segs).toBe(1);
  });
});

function steps(yaml: string) {
  return runModel(parseScenarioText(yaml, 't.yaml'), { kernel: '6.18', overrides: VM as never }).steps;
}

describe('transmit-time merging (tcp_grow_skb, 6.10+) after the default fill', () => {
  const send = (len: number, zc: boolean) => steps(`name: g\nconnection: { start: zero_window }\nsender: { so_zerocopy: true }\nsteps:\n  - send: { len: ${len}, zerocopy: ${zc} }\n`)[0].skbs;
  it('copy 65535 -> 1 skb, copy 100000 -> 2, copy 200000 -> 4', () => {
    expect([send(65535, false), send(100000, false), send(200000, false)]).toEqual([1, 2, 4]);
  });
  it('zerocopy skbs are never merged: 47617 -> 2 skbs, 200000 -> 5', () => {
    expect([send(47617, true), send(200000, true)]).toEqual([2, 5]);
  });
  it('5.17 has no tcp_grow_skb: copy 100000 stays in size_goal skbs', () => {
    const s = runModel(parseScenarioText('name: g\nconnection: { start: zero_window }\nsteps:\n  - send: { len: 100000 }\n', 'g.yaml'), { kernel: '5.17' }).steps;
    expect(s[0].skbs).toBeGreaterThan(2);
  });
});

describe('fresh connection ACKs (quick-ACK budget, delayed ACK)', () => {
  it('5 x 20000 zc: only the first send is ACKed before the delayed-ACK timer', () => {
    const s = steps('name: f\nconnection: { start: fresh }\nsender: { so_zerocopy: true }\nsteps:\n' + '  - send: { len: 20000, zerocopy: true }\n'.repeat(5) + '  - sleep: { ms: 1000 }\n');
    expect(s.slice(0, 5).map((x) => x.outq)).toEqual([0, 20000, 40000, 60000, 80000]);
    expect(s[5].outq).toBeLessThan(80000);
  });
  it('recv lets data through a small window and trims partially ACKed skbs', () => {
    const s = steps('name: r\nconnection: { start: fresh, receiver: { rcvbuf: 8192 } }\nsteps:\n  - send: { len: 30000 }\n  - recv: { bytes: 6000 }\n  - drain:\n');
    expect(s[0].outq).toBe(25904);
    expect(s[1].result).toEqual({ ret: 6000 });
    expect(s[2].outq).toBe(0);
    expect(s[2].meminfo.wmem_queued).toBe(0);
  });
});

describe('receive queue on loopback: cloned copy segments, uncloned zerocopy segments', () => {
  /** Receive-queue entries ([end_seq, truesize]) and sender outq after each step. */
  function rxQueues(yaml: string): { queue: [number, number][]; outq: number }[] {
    const out: { queue: [number, number][]; outq: number }[] = [];
    let view: { sk: Sock; path: LoopbackPath } | null = null;
    const peek = {
      name: 'peek',
      attach: (v: { sk: Sock; path: LoopbackPath }) => { view = v; },
      afterStep: (_v: unknown, i: number) => {
        if (i < 0 || view === null) return;
        const r = view.path.rcv!;
        out.push({ queue: r.queue.map((e) => [e.end_seq - r.copied_seq, e.truesize] as [number, number]), outq: view.sk.write_seq - view.sk.snd_una });
      },
    };
    runModel(parseScenarioText(yaml, 'q.yaml'), { kernel: '6.18', overrides: VM as never, checkers: [peek as never] });
    return out;
  }
  const scenario = (zc: boolean) =>
    `name: q\nconnection: { start: zero_window, receiver: { rcvbuf: 16384 } }\nsender: { so_zerocopy: true }\nsteps:\n  - send: { len: 40000, zerocopy: ${zc} }\n  - recv: { bytes: 28672 }\n  - recv: { bytes: 10000 }\n`;

  it('zerocopy: skb_copy_ubufs() gives each segment its own head, so the three 8192 B segments coalesce into one skb and a 10000 B read frees nothing (no ACK)', () => {
    const s = rxQueues(scenario(true));
    // after the first recv: 4096 B of the first segment consumed, the rest one coalesced skb (9024 + 2 x 8192 frag truesize)
    expect(s[1].queue).toEqual([[20480, 25408]]);
    expect(s[1].outq).toBe(23616);
    // the 10000 B read stays inside that skb: the window stays closed, nothing more is ACKed (live 6.18.44)
    expect(s[2].queue).toEqual([[10480, 25408]]);
    expect(s[2].outq).toBe(23616);
  });
  it('alternating zerocopy and copy sends: a zerocopy segment coalesces onto nothing cloned, a copy one onto a zerocopy tail', () => {
    const y = 'name: m\nconnection: { start: zero_window, receiver: { rcvbuf: 16384 } }\nsender: { so_zerocopy: true }\nsteps:\n' +
      ['8192, zerocopy: true', '8192', '8192, zerocopy: true', '8192', '8192, zerocopy: true'].map((a) => `  - send: { len: ${a} }\n`).join('') +
      '  - recv: { bytes: 24576 }\n  - recv: { bytes: 8192 }\n';
    const s = rxQueues(y);
    // after the filler is read: the first zerocopy segment (a head of its own) took the following
    // copy segment in (its frags, truesize minus the clone's head); in the old clone-only rule
    // they were two skbs and the next 8192 B read freed one
    expect(s[5].queue).toEqual([[16384, 17216]]);
    expect(s[5].outq).toBe(40960);
    // the read leaves the coalesced skb half consumed; the next zerocopy segment joins it; outq as live 6.18.44
    expect(s[6].queue).toEqual([[16384, 25408]]);
    expect(s[6].outq).toBe(24576);
  });
});

describe('simulated time on loopback: every timer due in a wait fires', () => {
  it('400 zerocopy sends of 100 B, receiver not reading: a 500 ms sleep runs the delayed-ACK rounds until all is ACKed (live 6.18.44: outq 0)', () => {
    const s = steps('name: z\nconnection: { start: fresh }\nsender: { so_zerocopy: true }\nsteps:\n  - send_until_eagain: { len: 100, zerocopy: true, max_calls: 400 }\n  - sleep: { ms: 500 }\n  - errqueue: {}\n');
    expect(s[0].outq).toBe(38400);
    // one delayed ACK (40 ms) lets only ten more segments out; the rest needs the timer to fire again and again
    expect(s[1].outq).toBe(0);
    expect(s[1].meminfo.wmem_queued).toBe(0);
    expect(s[2].notifications).toEqual([{ lo: 0, hi: 399, code: 1 }]);
  });
});
