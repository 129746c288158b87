// Many flows under memory pressure: N msg_zerocopy senders (the selftest's sender, SO_SNDBUF
// 1 << 21) and M ordinary copy senders (sndbuf autotuned: tcp_sndbuf_expand, moderated by
// sk_stream_moderate_sndbuf under pressure) on one host, sharing its NIC, tcp_mem and memcg.
// With tcp_mem sized so that 5.15's double accounting crosses tcp_mem[1], the same flows on
// 5.16+ stay below it; the study reports time under pressure, sndbuf moderation and every
// flow's throughput, so the copy-only flow's fate can be compared across profiles.
import { EventQueue } from '../engine/queue.ts';
import type { LinkParams } from '../paths/link.ts';
import { Host } from './host.ts';
import { ZcSender, type CpuCosts } from './msg_zerocopy.ts';
import { Sampler, type Bucket, type Stat } from './series.ts';

export interface PressureOptions {
  kernel: string;
  zcFlows: number;
  copyFlows: number;
  runtime_ms: number;
  payload: number;
  link: LinkParams;
  cc: string;
  tcp_mem: [number, number, number];
  costs: CpuCosts;
  sample_ns: number;
  series_points: number;
  onProgress?: (fraction: number) => void;
}

export interface FlowReport {
  id: number;
  kind: 'zerocopy' | 'copy';
  gbps: number;
  sndbuf_final: number;
  sndbuf_min: number;
  sndbuf_max: number;
  eagain: number;
}

export interface PressureResult {
  kernel: string;
  tcp_mem: [number, number, number];
  pressure_ms: number;
  pressure_entries: number;
  memcg_sock: Stat;
  tcp_mem_pages: Stat;
  flows: FlowReport[];
  series: Bucket[];
  total_gbps: number;
  sim_ns: number;
  wall_ms: number;
}

/**
 * tcp_mem for the study (pages): tcp_mem[1] at 40 pages per zerocopy flow (below the ~82 a
 * 5.15 selftest flow holds with sndbuf 425984, far above the ~4 of 5.16+) plus 640 pages
 * (2.5 MiB, what an autotuned copy flow holds at this rate) per copy flow; tcp_mem[0] = 3/4, tcp_mem[2] = 2x.
 */
export function autoTcpMem(zcFlows: number, copyFlows: number): [number, number, number] {
  const p = Math.max(64, zcFlows * 40 + copyFlows * 640);
  return [Math.floor((p * 3) / 4), p, 2 * p];
}

export function runPressure(o: PressureOptions): PressureResult {
  const q = new EventQueue();
  const host = new Host(q, { kernel: o.kernel, link: o.link, cc: o.cc, sysctl: { 'net.ipv4.tcp_mem': o.tcp_mem } });
  const tstop = o.runtime_ms * 1e6;
  const senders: ZcSender[] = [];
  const kinds: ('zerocopy' | 'copy')[] = [];
  const flowOpts = { family: 'ipv4' as const, rcvbuf: 1 << 21, rcvlowat: 1 << 16, initcwnd: 10, rto_min_ns: 200e6, rx_wake_ns: o.costs.wake_ns, rx_read_max: 1 << 21 };
  for (let i = 0; i < o.zcFlows + o.copyFlows; i++) {
    const zc = i < o.zcFlows;
    const flow = host.openFlow({ sndbuf: zc ? 1 << 21 : null, zerocopy: zc, flow: flowOpts });
    // stagger the starts by a microsecond each so the flows do not move in lockstep
    const s = new ZcSender(q, flow, { payload: o.payload, zerocopy: zc, notify_limit: 32, expect_zerocopy: -1, tstop, costs: o.costs });
    senders.push(s);
    kinds.push(zc ? 'zerocopy' : 'copy');
  }
  const sndMin = senders.map((s) => s.flow.sk.sk_sndbuf);
  const sndMax = senders.map((s) => s.flow.sk.sk_sndbuf);
  const probe = [0, 0, 0, 0, 0, 0];
  const sampler = new Sampler(
    q,
    () => {
      let fwd = 0;
      let wq = 0;
      for (let i = 0; i < senders.length; i++) {
        const sk = senders[i].flow.sk;
        fwd += sk.sk_forward_alloc;
        wq += sk.sk_wmem_queued;
        if (sk.sk_sndbuf < sndMin[i]) sndMin[i] = sk.sk_sndbuf;
        if (sk.sk_sndbuf > sndMax[i]) sndMax[i] = sk.sk_sndbuf;
      }
      probe[0] = host.memcgSockBytes();
      probe[1] = fwd;
      probe[2] = wq;
      probe[3] = host.net.proto.memory_allocated;
      probe[4] = senders[senders.length - 1].flow.sk.sk_sndbuf;
      probe[5] = host.net.proto.memory_pressure ? 1 : 0;
      return probe;
    },
    o.sample_ns,
    0,
    tstop,
    o.series_points,
  );
  // throughput over the run: bytes the receivers had at tstop
  const rxAtStop = senders.map(() => 0);
  q.at(tstop, () => senders.forEach((s, i) => (rxAtStop[i] = s.flow.rxBytes)));
  let done = 0;
  senders.forEach((s, i) => {
    s.onDone = () => {
      done++;
    };
    q.at(i * 1000, () => s.start());
  });
  const wall0 = performance.now();
  let t = 0;
  while (done < senders.length && t < tstop + 1e9) {
    t += 20e6;
    q.runUntil(t);
    o.onProgress?.(Math.min(1, t / tstop));
  }
  const flows: FlowReport[] = senders.map((s, i) => ({
    id: s.flow.sk.id, kind: kinds[i], gbps: (rxAtStop[i] * 8) / tstop, sndbuf_final: s.flow.sk.sk_sndbuf, sndbuf_min: sndMin[i], sndbuf_max: sndMax[i], eagain: s.eagain,
  }));
  return {
    kernel: o.kernel, tcp_mem: o.tcp_mem, pressure_ms: sampler.pressureNs / 1e6, pressure_entries: host.net.proto.pressure_entries,
    memcg_sock: sampler.stat('memcg_sock'), tcp_mem_pages: sampler.stat('tcp_mem_pages'), flows, series: sampler.series(),
    total_gbps: flows.reduce((a, f) => a + f.gbps, 0), sim_ns: q.now, wall_ms: performance.now() - wall0,
  };
}
