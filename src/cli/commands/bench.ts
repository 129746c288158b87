// skmem bench: experiments on the event engine over the `link` path.
//   bench msg_zerocopy  the kernel selftest's TCP sender/receiver between two hosts
//   bench headline      the commit's experiment (100 Gbit/s, -z, default payload) on 5.15, 5.16
//                       and 6.18, with the before/after table and an HTML report (npm start)
//   bench pressure      many zerocopy and copy flows from one host sharing tcp_mem and a memcg
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { CONGESTION_CONTROLS } from '../../engine/cc.ts';
import { DEFAULT_LINK, parseDuration, parseRate, type LinkParams } from '../../paths/link.ts';
import { getProfile } from '../../profiles/index.ts';
import { htmlPage, preBlock, svgChart } from '../../report/html.ts';
import { renderTable } from '../../report/table.ts';
import { autoTcpMem, runPressure, type PressureResult } from '../../workloads/pressure.ts';
import { DEFAULT_COSTS, runMsgZerocopy, type ZcResult } from '../../workloads/msg_zerocopy.ts';
import { SERIES_FIELDS, seriesCsv } from '../../workloads/series.ts';

/** The commit's figures (9b65b17db723 message). */
export const COMMIT_BEFORE = 1822720;
export const COMMIT_AFTER = 0;

interface LinkFlags {
  link: string;
  rtt: string;
  mtu: string;
  loss: string;
  seed: string;
  cc: string;
  txcDelay: string;
}

function addLinkOptions(c: Command): Command {
  return c
    .option('--link <rate>', 'link rate (e.g. 100gbit, 25gbit, 400mbit)', '100gbit')
    .option('--rtt <time>', 'round-trip propagation delay (e.g. 50us, 1ms)', '50us')
    .option('--mtu <bytes>', 'link MTU', '1500')
    .option('--loss <p>', 'probability that one MSS segment is lost (seeded)', '0')
    .option('--seed <n>', 'seed of the loss process', '1')
    .option('--cc <name>', `congestion control (${Object.keys(CONGESTION_CONTROLS).join(', ')})`, 'cubic')
    .option('--txc-delay <time>', 'NIC TX completion delay after the last bit leaves', '2us');
}

function intArg(v: string, what: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${what} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function linkParams(o: LinkFlags): LinkParams {
  const loss = Number(o.loss);
  if (!(loss >= 0 && loss < 1)) throw new UsageError(`--loss must be a probability in [0, 1), got "${o.loss}"`);
  const mtu = intArg(o.mtu, '--mtu', 576);
  if (mtu > 65535) throw new UsageError(`--mtu must be at most 65535, got ${mtu}`);
  if (CONGESTION_CONTROLS[o.cc] === undefined) throw new UsageError(`unknown --cc "${o.cc}" (expected ${Object.keys(CONGESTION_CONTROLS).join(' or ')})`);
  return {
    ...DEFAULT_LINK, rate_bps: parseRate(o.link), rtt_ns: parseDuration(o.rtt, '--rtt'), mtu, loss, seed: intArg(o.seed, '--seed'),
    txc_delay_ns: parseDuration(o.txcDelay, '--txc-delay'),
  };
}

function kernels(list: string): string[] {
  const ks = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (ks.length === 0) throw new UsageError('--kernel needs at least one profile');
  for (const k of ks) getProfile(k);
  return ks;
}

const progress = (label: string) => (f: number) => {
  if (process.stderr.isTTY) process.stderr.write(`\r${label}: ${(f * 100).toFixed(0)}% of simulated time `);
};
const progressDone = () => {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
};

const kib = (b: number) => (b / 1024).toFixed(1);

/** The memory table of the sending socket and its cgroup, one row per run. */
export function memTable(runs: ZcResult[]): string {
  const rows = runs.map((r) => [
    r.kernel, String(r.sndbuf), kib(r.mem.memcg_sock.mean), kib(r.mem.memcg_sock.p50), kib(r.mem.memcg_sock.p99), kib(r.mem.memcg_sock.max),
    kib(r.mem.fwd_alloc.mean), kib(r.mem.fwd_alloc.max), kib(r.mem.wmem_queued.mean), kib(r.mem.wmem_queued.max),
    r.mem.tcp_mem_pages.mean.toFixed(1), String(r.mem.tcp_mem_pages.max), r.mem.pressure_ms.toFixed(1), (r.goodput_bps / 1e9).toFixed(1),
  ]);
  return renderTable(rows, [
    'kernel', 'sndbuf', 'sock mean KiB', 'p50', 'p99', 'max', 'fwd mean KiB', 'fwd max', 'wq mean KiB', 'wq max', 'tcp_mem pg mean', 'max', 'pressure ms', 'Gbit/s',
  ]);
}

interface ZcFlags extends LinkFlags {
  4?: boolean;
  6?: boolean;
  t: string;
  s: string;
  z?: boolean;
  l: string;
  Z?: string;
  kernel: string;
  wmemMax?: string;
  sample: string;
  points: string;
  json?: boolean;
  csv?: boolean;
  html?: string;
}

const REFUSED: Record<string, string> = {
  c: 'cork (-c) is UDP-only in msg_zerocopy.c ("can only cork udp sockets"); this benchmark models the TCP test',
  m: 'cork_mixed (-m) requires -c, which is UDP-only',
  r: 'the receiver (-r) is always modelled together with the sender on host B',
  C: 'CPU pinning (-C): the model has no scheduler; CPU time is a fixed cost per call (see --help)',
  D: 'addresses (-D/-S) do not exist in the model: the link joins exactly two hosts',
  S: 'addresses (-D/-S) do not exist in the model: the link joins exactly two hosts',
  i: 'interfaces (-i) are only used by the packet tests, not by tcp',
  p: 'ports (-p) do not exist in the model',
  v: 'verbose (-v) output is not modelled; use --json or --csv for the time series',
};

function zcOptions(o: ZcFlags) {
  if (o[4] && o[6]) throw new UsageError('Pass one of -4 or -6');
  const t = intArg(o.t, '-t');
  const payload = intArg(o.s, '-s', 1);
  const maxPayload = 65535 - 40 - 20 - 40; // sizeof(payload) - ipv6hdr - tcphdr - 40 (max tcp options)
  if (payload > maxPayload) throw new UsageError(`-s: payload exceeds max (${maxPayload})`);
  let expect: -1 | 0 | 1 = -1;
  if (o.Z !== undefined) expect = Number(o.Z) ? 1 : 0;
  const link = linkParams(o);
  const sample = parseDuration(o.sample, '--sample');
  if (sample < 100) throw new UsageError('--sample must be at least 100ns');
  return {
    family: (o[6] ? 'ipv6' : 'ipv4') as 'ipv4' | 'ipv6', runtime_ms: 200 + t * 1000, payload, zerocopy: o.z === true, notify_limit: intArg(o.l, '-l', 1), expect_zerocopy: expect,
    link, cc: o.cc, costs: DEFAULT_COSTS, sample_ns: sample, series_points: intArg(o.points, '--points', 2),
    wmem_max: o.wmemMax === undefined ? undefined : intArg(o.wmemMax, '--wmem-max', 1),
  };
}

function runKernels(ks: string[], base: ReturnType<typeof zcOptions>): ZcResult[] {
  const out: ZcResult[] = [];
  for (const k of ks) {
    out.push(runMsgZerocopy({ ...base, kernel: k, onProgress: progress(`msg_zerocopy ${k}`) }));
    progressDone();
  }
  return out;
}

function writeHtml(path: string, title: string, sections: string[]): string {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, htmlPage(title, sections));
  return abs;
}

function linkLine(l: LinkParams, family: string): string {
  return `link: ${l.rate_bps / 1e9} Gbit/s, rtt ${l.rtt_ns / 1000} us, mtu ${l.mtu}, loss ${l.loss}, ${family}`;
}

function addZcOptions(c: Command, defaultSecs = '4'): Command {
  return addLinkOptions(
    c
      .option('-4', 'IPv4 (default)')
      .option('-6', 'IPv6')
      .option('-t <secs>', 'run time: 200 ms + secs * 1000 (msg_zerocopy.c -t)', defaultSecs)
      .option('-s <len>', 'payload per sendmsg (max 65435)', '65435')
      .option('-z', 'MSG_ZEROCOPY (sets SO_ZEROCOPY)')
      .option('-l <n>', 'read completions every n sends (6.x selftest; the 5.17 selftest has no -l)', '32')
      .option('-Z <0|1>', 'expected ee_code (6.x selftest): 1 zerocopy, 0 copied')
      .option('--wmem-max <bytes>', 'net.core.wmem_max/rmem_max on both hosts (SO_SNDBUF 1<<21 is capped by it)')
      .option('--sample <time>', 'sampling interval of the memory time series', '10us')
      .option('--points <n>', 'buckets kept for plots, JSON and CSV', '1000'),
  );
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('experiments on the event engine over a link between two hosts (msg_zerocopy, headline, pressure)');

  const zc = bench
    .command('msg_zerocopy')
    .description("tools/testing/selftests/net/msg_zerocopy.c (tcp) between two hosts: the selftest's lines and a memory table")
    .argument('[test]', 'the selftest test: only tcp is modelled', 'tcp')
    .option('--kernel <list>', 'profiles to run, comma separated', '6.18')
    .option('--json', 'print results and time series as JSON')
    .option('--csv', 'print the time series as CSV')
    .option('--html <path>', 'also write an HTML report with plots')
    .allowUnknownOption(false);
  for (const f of Object.keys(REFUSED)) zc.option(`-${f} [value]`, `refused: ${REFUSED[f]}`);
  addZcOptions(zc).action((test: string, o: ZcFlags & Record<string, unknown>) => {
    for (const f of Object.keys(REFUSED)) if (o[f] !== undefined) throw new UsageError(`-${f} is not modelled: ${REFUSED[f]}`);
    if (test !== 'tcp') throw new UsageError(`test "${test}" is not modelled: only tcp (the accounting studied is TCP's)`);
    const base = zcOptions(o);
    const runs = runKernels(kernels(o.kernel), base);
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ link: base.link, fields: SERIES_FIELDS, runs }, null, 1)}\n`);
      return;
    }
    if (o.csv) {
      process.stdout.write(`${runs.map((r, i) => (i === 0 ? seriesCsv(r.series, r.kernel) : seriesCsv(r.series, r.kernel).split('\n').slice(1).join('\n'))).join('\n')}\n`);
      return;
    }
    const out: string[] = [linkLine(base.link, base.family), ''];
    for (const r of runs) out.push(`[${r.kernel}]`, r.txLine, r.rxLine, '');
    out.push('memory of the sending socket and its cgroup (sampled every ' + o.sample + ' of simulated time):', memTable(runs));
    if (o.html) {
      const path = writeHtml(o.html, 'skmem bench msg_zerocopy', [preBlock(out.join('\n')), ...chartsFor(runs)]);
      out.push('', `HTML report: ${path}`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  });

  addZcOptions(
    bench
      .command('headline')
      .description('the commit\'s experiment: msg_zerocopy -z between two 100 Gbit/s hosts on 5.15, 5.16 and 6.18; before/after table and HTML report (npm start)')
      .option('--kernel <list>', 'profiles to run', '5.15,5.16,6.18')
      .option('--html <path>', 'where to write the HTML report', 'reports/headline.html')
      .option('--json', 'print the results as JSON'),
    '1', // msg_zerocopy.sh runs the sender with -t 1
  ).action((o: ZcFlags) => {
    const base = zcOptions({ ...o, z: true });
    const runs = runKernels(kernels(o.kernel), base);
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ link: base.link, fields: SERIES_FIELDS, runs }, null, 1)}\n`);
      return;
    }
    const text = headlineText(runs, base.link, base.family, base.runtime_ms);
    const path = writeHtml(o.html ?? 'reports/headline.html', 'skmem: msg_zerocopy before/after "net: avoid double accounting for pure zerocopy skbs"', [preBlock(text), ...chartsFor(runs)]);
    process.stdout.write(`${text}\n\nHTML report (memcg "sock" and fwd_alloc over time): ${path}\n`);
  });

  addLinkOptions(
    bench
      .command('pressure')
      .description('many flows from one host sharing tcp_mem and a memcg: zerocopy and copy flows, per profile')
      .option('--flows <n>', 'msg_zerocopy (-z) flows', '16')
      .option('--copy-flows <n>', 'ordinary copy flows (sndbuf autotuned) on the same host', '1')
      .option('--kernel <list>', 'profiles to run', '5.15,5.16,6.18')
      .option('--time <ms>', 'simulated run time in ms', '200')
      .option('--tcp-mem <a,b,c>', 'net.ipv4.tcp_mem in pages (default: sized so 5.15 enters pressure)')
      .option('--json', 'print the results as JSON')
      .option('--html <path>', 'also write an HTML report'),
  ).action((o: LinkFlags & { flows: string; copyFlows: string; kernel: string; time: string; tcpMem?: string; json?: boolean; html?: string }) => {
    const zcFlows = intArg(o.flows, '--flows', 0);
    const copyFlows = intArg(o.copyFlows, '--copy-flows', 0);
    if (zcFlows + copyFlows === 0) throw new UsageError('--flows and --copy-flows cannot both be 0');
    let tcpMem = autoTcpMem(zcFlows, copyFlows);
    if (o.tcpMem !== undefined) {
      const parts = o.tcpMem.split(',').map((x) => intArg(x.trim(), '--tcp-mem', 1));
      if (parts.length !== 3 || !(parts[0] <= parts[1] && parts[1] <= parts[2])) throw new UsageError('--tcp-mem needs three increasing page counts, e.g. 1000,1300,2600');
      tcpMem = parts as [number, number, number];
    }
    const link = linkParams(o);
    const results: PressureResult[] = [];
    for (const k of kernels(o.kernel)) {
      results.push(runPressure({
        kernel: k, zcFlows, copyFlows, runtime_ms: intArg(o.time, '--time', 1), payload: 65435, link, cc: o.cc, tcp_mem: tcpMem, costs: DEFAULT_COSTS,
        sample_ns: 10_000, series_points: 500, onProgress: progress(`pressure ${k}`),
      }));
      progressDone();
    }
    if (o.json) {
      process.stdout.write(`${JSON.stringify(results, null, 1)}\n`);
      return;
    }
    const text = pressureText(results, zcFlows, copyFlows, link);
    if (o.html) {
      const path = writeHtml(o.html, 'skmem bench pressure', [preBlock(text), svgChart(results.map((r) => ({ label: r.kernel, series: r.series })), 'memcg_sock', 'memcg "sock" of the host (all flows)'), svgChart(results.map((r) => ({ label: r.kernel, series: r.series })), 'tcp_mem_pages', 'tcp_memory_allocated (pages)', 'pages')]);
      process.stdout.write(`${text}\n\nHTML report: ${path}\n`);
    } else process.stdout.write(`${text}\n`);
  });
}

function chartsFor(runs: ZcResult[]): string[] {
  const cr = runs.map((r) => ({ label: r.kernel, series: r.series }));
  return [
    svgChart(cr, 'memcg_sock', 'memcg memory.stat "sock" (bytes) of the sender\'s cgroup'),
    svgChart(cr, 'fwd_alloc', 'sk_forward_alloc of the sending socket (bytes)'),
    svgChart(cr, 'wmem_queued', 'sk_wmem_queued of the sending socket (bytes)'),
  ];
}

export function headlineText(runs: ZcResult[], link: LinkParams, family: string, runtimeMs: number): string {
  const out: string[] = [
    'skmem: the commit\'s experiment, "net: avoid double accounting for pure zerocopy skbs" (9b65b17db723)',
    `msg_zerocopy -${family === 'ipv6' ? 6 : 4} -z -s 65435 tcp between two hosts, ${runtimeMs} ms; ${linkLine(link, family)}`,
    '',
  ];
  for (const r of runs) out.push(`[${r.kernel}] ${r.txLine.split('\n').join(' | ')}   ${r.rxLine}`);
  const before = runs.find((r) => r.kernel === '5.15');
  const rows = runs.map((r) => [
    r.kernel, String(r.sndbuf), String(Math.round(r.mem.memcg_sock.mean)), String(r.mem.memcg_sock.p50), String(r.mem.memcg_sock.max),
    before === undefined || r.mem.memcg_sock.mean === 0 ? '-' : `${(before.mem.memcg_sock.mean / r.mem.memcg_sock.mean).toFixed(1)}x`,
    (r.goodput_bps / 1e9).toFixed(1),
  ]);
  rows.push(['commit', '?', `~${COMMIT_BEFORE} -> ${COMMIT_AFTER}`, '', '', 'inf', '']);
  out.push('', 'memcg memory.stat "sock" of the sender\'s cgroup, bytes (sampled every 10 us of simulated time):',
    renderTable(rows, ['kernel', 'sndbuf', 'sock mean', 'sock p50', 'sock max', '5.15 / this', 'Gbit/s']), '',
    'memory of the sending socket and its cgroup:', memTable(runs), '',
    'Why: 5.15 charges every pinned user page to sk_forward_alloc and the memcg (double accounting);',
    'from 5.16 a pure zerocopy skb charges only its head (SKB_TRUESIZE(skb_end_offset) = 1280 B on 5.x,',
    '960 B on 6.18), so what remains is one head per queued skb. 5.x reclaims lazily (only when fwd',
    'reaches 2 MiB, or from the write timer once the flow idles), so the pages stay charged at the',
    'high-water mark; 6.x reclaims on every uncharge. 6.18 caps SO_SNDBUF by wmem_max = 4 MiB',
    '(5.x: 212992), so its sndbuf is 4194304 instead of 425984: more skbs in flight, more heads.',
    'See README.md "The commit\'s experiment" for the figures beside the commit\'s own.');
  return out.join('\n');
}

function pressureText(results: PressureResult[], zc: number, copy: number, link: LinkParams): string {
  const out: string[] = [
    `${zc} msg_zerocopy -z flows + ${copy} copy flow(s) from one host; tcp_mem ${results[0]?.tcp_mem.join(' ')} pages; ${linkLine(link, 'ipv4')}`,
    '',
    renderTable(
      results.map((r) => [r.kernel, r.pressure_ms.toFixed(1), String(r.pressure_entries), kib(r.memcg_sock.mean), kib(r.memcg_sock.max), r.tcp_mem_pages.mean.toFixed(0), String(r.tcp_mem_pages.max), r.total_gbps.toFixed(1)]),
      ['kernel', 'pressure ms', 'entries', 'memcg sock mean KiB', 'max KiB', 'tcp_mem pg mean', 'max', 'total Gbit/s'],
    ),
    '',
    'per flow (Gbit/s; sndbuf min..max over the run -> final):',
  ];
  const ids = results[0]?.flows.map((f) => f.id) ?? [];
  const rows = ids.map((id, i) => [
    String(id), results[0].flows[i].kind,
    ...results.flatMap((r) => [r.flows[i].gbps.toFixed(2), `${r.flows[i].sndbuf_min}..${r.flows[i].sndbuf_max}`]),
  ]);
  out.push(renderTable(rows, ['flow', 'kind', ...results.flatMap((r) => [`${r.kernel} Gbit/s`, `${r.kernel} sndbuf`])]));
  for (const r of results) {
    const copyFlows = r.flows.filter((f) => f.kind === 'copy');
    if (copyFlows.length === 0) continue;
    const g = copyFlows.reduce((a, f) => a + f.gbps, 0) / copyFlows.length;
    out.push(`${r.kernel}: copy-only flow ${g.toFixed(2)} Gbit/s on average; ${r.pressure_ms > 0 ? `under pressure ${r.pressure_ms.toFixed(1)} ms` : 'never under pressure'}; sndbuf ${copyFlows.map((f) => `${f.sndbuf_min}..${f.sndbuf_max}`).join(', ')}`);
  }
  out.push('', 'A copy flow grows its sndbuf (tcp_new_space -> tcp_sndbuf_expand) only while tcp_memory_allocated < tcp_mem[0]',
    'and the host is not under pressure (tcp_should_expand_sndbuf); 5.15\'s double-charged zerocopy pages use that room up.');
  return out.join('\n');
}
