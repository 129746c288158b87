// npm run bench: the model's throughput in sendmsg calls per second, for 64 KiB MSG_ZEROCOPY
// sends into a frozen queue with periodic drains, and for 64 KiB copy sends; printed with the
// ratio to the previous run on this machine (bench/last.json, not committed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { runModel } from '../src/backends/model/run.ts';
import { loadScenarioFile, parseScenarioText } from '../src/scenario/parse.ts';
import type { LinkBenchResult } from './link_experiment.ts';
import { OP_KINDS } from '../src/fuzz/ops.ts';
import { fuzz } from '../src/fuzz/search.ts';

const ROUNDS = 200;
const CALLS_PER_ROUND = 32; // sndbuf 2626560 holds ~36 x 64 KiB (wq counts pinned pages too)

function scenario(zerocopy: boolean, kernel: string): string {
  const round = `  - send_until_eagain: { len: 65536, zerocopy: ${zerocopy}, max_calls: ${CALLS_PER_ROUND} }\n  - drain:\n`;
  return `name: bench_${zerocopy ? 'zc' : 'copy'}\nkernel: "${kernel}"\nconnection: { start: zero_window }\nsender: { so_zerocopy: true }\nsteps:\n${round.repeat(ROUNDS)}`;
}

function measure(zerocopy: boolean, kernel: string): number {
  const loaded = parseScenarioText(scenario(zerocopy, kernel), 'bench.yaml');
  runModel(loaded); // warm up the JIT
  let calls = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < 1500) {
    const obs = runModel(loaded);
    for (const s of obs.steps) if ('calls' in s.result) calls += s.result.calls;
    elapsed = performance.now() - t0;
  }
  return calls / (elapsed / 1000);
}

const lastPath = new URL('./last.json', import.meta.url);
const last: Record<string, number> = existsSync(lastPath) ? JSON.parse(readFileSync(lastPath, 'utf8')) : {};
const now: Record<string, number> = {};
console.log('skmem model throughput (sendmsg calls per second, one core)');
for (const kernel of ['6.18', '5.15']) {
  for (const zc of [true, false]) {
    const key = `${kernel} ${zc ? 'zerocopy' : 'copy'} 64KiB`;
    const rate = measure(zc, kernel);
    now[key] = rate;
    const prev = last[key];
    const ratio = prev ? ` (x${(rate / prev).toFixed(2)} vs previous run)` : ' (no previous run recorded)';
    console.log(`  ${key.padEnd(24)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} calls/s${ratio}`);
  }
}
// the live backend last: tearing down its network namespaces goes on in kernel workers for a
// while after the runs return, and would share the CPU with whatever is measured next
await linkExperiment(now);
fuzzThroughput(now);
await backendComparison(now);
writeFileSync(lastPath, `${JSON.stringify(now, null, 2)}\n`);

/**
 * Time per scenario of each backend on a sample of the validation corpus, and their ratio.
 * The live backend needs root on Linux; elsewhere its line says why it is missing.
 */
async function backendComparison(record: Record<string, number>): Promise<void> {
  const { liveAvailable, runLive } = await import('../src/backends/live/index.ts');
  const files = readdirSync('corpus').filter((f) => f.endsWith('.yaml') && f !== 'known_gaps.yml').sort().slice(0, 12);
  const loaded = files.map((f) => loadScenarioFile(`corpus/${f}`));
  const t0 = performance.now();
  const reps = 20;
  for (let r = 0; r < reps; r++) for (const l of loaded) runModel(l);
  const modelMs = (performance.now() - t0) / (reps * loaded.length);
  console.log(`\nper scenario (${loaded.length} corpus scenarios)`);
  console.log(`  model backend  ${modelMs.toFixed(3).padStart(10)} ms`);
  record['model ms/scenario'] = modelMs;
  const avail = liveAvailable();
  if (!avail.ok) {
    console.log(`  live backend   not measured: ${avail.reason}`);
    return;
  }
  const t1 = performance.now();
  for (const l of loaded) await runLive(l);
  const liveMs = (performance.now() - t1) / loaded.length;
  record['live ms/scenario'] = liveMs;
  console.log(`  live backend   ${liveMs.toFixed(1).padStart(10)} ms`);
  console.log(`  ratio          live / model = ${Math.round(liveMs / modelMs).toLocaleString('en-US')}x`);
}

/**
 * The 100 Gbit/s msg_zerocopy experiment on the event engine (skmem bench headline): simulated
 * seconds per wall second, one core, and the heap after the run (bounded by the data in flight:
 * the time series is bucketed, the queues hold at most sndbuf worth of skbs). Each kernel runs
 * in a fresh node process from an esbuild bundle of bench/link_experiment.ts built now into a
 * temporary directory (the same sources compiled ahead, as a production build would be); if
 * esbuild cannot be loaded it runs under tsx, and the output says which.
 */
async function linkExperiment(record: Record<string, number>): Promise<void> {
  const entry = fileURLToPath(new URL('./link_experiment.ts', import.meta.url));
  let cmd: string[];
  let how: string;
  const dir = mkdtempSync(join(tmpdir(), 'skmem-bench-'));
  try {
    const esbuild = await import('esbuild');
    const outfile = join(dir, 'link_experiment.mjs');
    await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'warning' });
    cmd = [outfile];
    how = 'esbuild bundle (compiled ahead of the run)';
  } catch (e) {
    cmd = ['--import', 'tsx', entry];
    how = `under tsx (esbuild bundle unavailable: ${(e as Error).message.split('\n')[0]})`;
  }
  console.log(`\n100 Gbit/s msg_zerocopy -z (skmem bench headline, 1.2 s simulated), event engine, one core, ${how}; best of 5 runs after the first (JIT warm-up) run`);
  try {
    for (const kernel of ['5.15', '5.16', '6.18']) {
      const out = execFileSync(process.execPath, [...cmd, kernel], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as LinkBenchResult;
      const wall = r.wall_ms / 1000;
      const rate = r.sim_ns / 1e9 / wall;
      const key = `${kernel} link sim-s/wall-s`;
      const prev = last[key];
      record[key] = rate;
      const ratio = prev ? ` (x${(rate / prev).toFixed(2)} vs previous run)` : '';
      console.log(
        `  ${kernel}: simulated seconds per wall second ${rate.toFixed(2)} (target 10)${ratio}; ${(r.goodput_bps / 1e9).toFixed(1)} Gbit/s simulated (${Math.round(r.sendmsg_calls / (r.sim_ns / 1e9)).toLocaleString('en-US')} sendmsg and ${Math.round(r.events / (r.sim_ns / 1e9)).toLocaleString('en-US')} events per simulated second); wall: ${Math.round(r.sendmsg_calls / wall).toLocaleString('en-US')} sendmsg/s, ${Math.round(r.events / wall).toLocaleString('en-US')} events/s; heap ${r.heap_mib.toFixed(0)} MiB; first run in the process ${(r.sim_ns / 1e9 / (r.first_wall_ms / 1000)).toFixed(2)}`,
      );
      console.log(`     ${budgetLine(r)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Where the wall time goes and what the target leaves: the engine alone (the run's events
 * replayed with empty handlers, bench/engine_floor.ts), the model code per sendmsg call (the
 * rest of the run: every kernel function of the data's life, GC included), and the model code
 * per call that 10 simulated seconds per wall second would allow with the same engine.
 */
function budgetLine(r: LinkBenchResult): string {
  const targetMs = r.sim_ns / 1e6 / 10;
  const modelNs = ((r.wall_ms - r.engine_floor_ms) * 1e6) / r.sendmsg_calls;
  const allowedNs = ((targetMs - r.engine_floor_ms) * 1e6) / r.sendmsg_calls;
  const fit =
    allowedNs <= 0
      ? 'the engine alone exceeds the target'
      : modelNs <= allowedNs
        ? `within the ${Math.round(allowedNs)} ns the target allows`
        : `the target allows ${Math.round(allowedNs)} ns (${(modelNs / allowedNs).toFixed(1)}x less)`;
  return `engine alone (same events, empty handlers) ${r.engine_floor_ms.toFixed(0)} of ${r.wall_ms.toFixed(0)} ms (target ${targetMs.toFixed(0)} ms); model code ${Math.round(modelNs)} ns per sendmsg, ${fit}`;
}

/**
 * skmem fuzz's hot path: generated steps per second with every checker on (fixed seed, all
 * operation kinds, up to 30 steps per run plus the close/drain teardown), one core.
 */
function fuzzThroughput(record: Record<string, number>): void {
  console.log('\nskmem fuzz, checkers on, one core (fixed seed, all operation kinds)');
  for (const kernel of ['6.18', '5.17', '5.15']) {
    const opts = { kernel, seed: 20260101, runs: 1_000_000, maxSteps: 30, ops: OP_KINDS, keepGoing: false };
    fuzz({ ...opts, timeLimitMs: 300 }); // warm up the JIT
    const r = fuzz({ ...opts, timeLimitMs: 3000 });
    const rate = r.steps / (r.elapsedMs / 1000);
    const key = `${kernel} fuzz steps/s`;
    const prev = last[key];
    record[key] = rate;
    const ratio = prev ? ` (x${(rate / prev).toFixed(2)} vs previous run)` : ' (no previous run recorded)';
    const found = r.failures.length > 0 ? `; FAILURE: ${r.failures[0].result.signatures.join(', ')}` : '';
    console.log(`  ${kernel}: ${Math.round(rate).toLocaleString('en-US').padStart(9)} steps/s, ${Math.round(r.runs / (r.elapsedMs / 1000)).toLocaleString('en-US')} runs/s${ratio}${found}`);
  }
}
