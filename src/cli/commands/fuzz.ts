// skmem fuzz --kernel P: swarm-weighted model-based fuzzing of a kernel profile with every
// checker on. Prints the seed always; on a failure, the shrunk sequence, the rule that fired and
// the accounting trail of the skbs involved, and writes it as a scenario file that
// `skmem run FILE --check` replays to the same warning. See docs/fuzzing.md.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseSetFlags } from '../../backends/model/overrides.ts';
import { explain } from '../../checkers/explain.ts';
import { OP_KINDS, type OpKind } from '../../fuzz/ops.ts';
import { classifyCase } from '../../fuzz/run_case.ts';
import { scenarioYaml } from '../../fuzz/scenario_file.ts';
import { fuzz, type FuzzFailure, type FuzzResult, type Progress } from '../../fuzz/search.ts';
import { getProfile } from '../../profiles/index.ts';
import { describeOp } from '../../report/table.ts';
import { parseScenarioText } from '../../scenario/parse.ts';
import { UsageError } from '../errors.ts';

const collect = (v: string, acc: string[]) => [...acc, v];

interface FuzzFlags {
  kernel: string;
  seed?: string;
  runs: string;
  steps: string;
  time: string;
  ops?: string;
  without?: string;
  keepGoing?: boolean;
  out?: string;
  set: string[];
  quiet?: boolean;
}

export function registerFuzz(program: Command): void {
  program
    .command('fuzz')
    .description('search a kernel profile for sequences that trip a kernel WARN or break an accounting identity')
    .requiredOption('-k, --kernel <profile>', 'kernel profile: 5.15, 5.16-v1, 5.16, 5.17, 6.18')
    .option('--seed <n>', 'seed of the search (default: a fresh random one, always printed)')
    .option('--runs <n>', 'most runs (one scenario each)', '1000000')
    .option('--steps <m>', 'most generated steps per run (a close and a drain are appended to each)', '30')
    .option('--time <seconds>', 'stop searching after this long (0 = no limit; a found failure is always shrunk)', '60')
    .option('--ops <kinds>', `only these operation kinds, comma separated (${OP_KINDS.join(', ')})`)
    .option('--without <kinds>', 'all operation kinds but these, comma separated')
    .option('--keep-going', 'after a failure, keep searching for failures with other signatures until the budget ends')
    .option('-o, --out <file>', 'scenario file to write a failure to (default skmem-fuzz-<profile>-<seed>.yaml)')
    .option('-s, --set <key=value>', 'override a config fact or sysctl for every run (repeatable)', collect, [])
    .option('-q, --quiet', 'no progress lines on stderr')
    .addHelpText('after', '\nExit status: 0 when nothing was found, 1 when a failure was found, 2 on bad input.')
    .action((o: FuzzFlags) => {
      if (o.kernel === 'auto') throw new UsageError('--kernel auto: name a profile to fuzz (5.15, 5.16-v1, 5.16, 5.17, 6.18)');
      const kernel = getProfile(o.kernel).name;
      const seed = o.seed === undefined ? Math.floor(Math.random() * 0x7fffffff) : int('--seed', o.seed, true);
      const runs = int('--runs', o.runs);
      const maxSteps = int('--steps', o.steps);
      const timeS = Number(o.time);
      if (!Number.isFinite(timeS) || timeS < 0) throw new UsageError(`--time ${o.time}: expected seconds (0 = no limit)`);
      const ops = opKinds(o.ops, o.without);
      const overrides = parseSetFlags(o.set);
      const budget = `${runs} runs of up to ${maxSteps} steps${timeS > 0 ? `, at most ${timeS} s` : ''}`;
      process.stdout.write(`skmem fuzz: kernel ${kernel}, seed ${seed}, ${budget}, ops ${ops.length === OP_KINDS.length ? 'all' : ops.join(',')}, checkers on\n`);
      const started = Date.now();
      const result = fuzz({
        kernel, seed, runs, maxSteps, timeLimitMs: timeS > 0 ? timeS * 1000 : null, ops, keepGoing: o.keepGoing ?? false, overrides,
        onProgress: o.quiet ? undefined : (p) => process.stderr.write(`${progressLine(kernel, seed, p)}\n`),
        progressEveryMs: 5000,
      });
      result.failures.forEach((f, n) => report(f, n, result, o.out, overrides));
      const refusals = Object.entries(result.rejected).sort((a, b) => b[1] - a[1]);
      if (refusals.length > 0) {
        const total = refusals.reduce((a, [, n]) => a + n, 0);
        process.stdout.write(`runs the model refused (not failures; scenarios it does not run): ${fmt(total)}\n${refusals.slice(0, 5).map(([why, n]) => `  ${fmt(n)} x ${why}`).join('\n')}\n`);
      }
      process.stdout.write(`${summary(result, Date.now() - started)}\n`);
      if (result.failures.length > 0) process.exitCode = 1;
    });
}

function int(flag: string, v: string, allowNegative = false): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || (!allowNegative && n < 1)) throw new UsageError(`${flag} ${v}: expected ${allowNegative ? 'an integer' : 'a positive integer'}`);
  return n;
}

function opKinds(only: string | undefined, without: string | undefined): OpKind[] {
  const parse = (flag: string, list: string) =>
    list.split(',').map((s) => s.trim()).filter(Boolean).map((k) => {
      if (!(OP_KINDS as readonly string[]).includes(k)) throw new UsageError(`${flag} ${k}: unknown operation kind (expected ${OP_KINDS.join(', ')})`);
      return k as OpKind;
    });
  let kinds: OpKind[] = only === undefined ? [...OP_KINDS] : parse('--ops', only);
  if (without !== undefined) {
    const drop = new Set(parse('--without', without));
    kinds = kinds.filter((k) => !drop.has(k));
  }
  if (kinds.length === 0) throw new UsageError('--ops/--without leave no operation kind to run');
  return kinds;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function progressLine(kernel: string, seed: number, p: Progress): string {
  const s = p.elapsedMs / 1000;
  return `[fuzz ${kernel} seed ${seed}] ${s.toFixed(0)} s: ${fmt(p.runs)} runs, ${fmt(p.steps)} steps (${fmt(p.steps / Math.max(s, 0.001))} steps/s)`;
}

function summary(r: FuzzResult, wallMs: number): string {
  const s = r.elapsedMs / 1000;
  const rate = `${fmt(r.steps / Math.max(s, 0.001))} steps/s`;
  const stop = r.timedOut ? ', stopped at the time limit' : '';
  const found = r.failures.length === 0 ? 'no failure' : `${r.failures.length} failure(s)`;
  return `seed ${r.seed}: ${fmt(r.runs)} runs, ${fmt(r.steps)} steps (${fmt(r.generated)} generated, the rest close/drain teardown) in ${s.toFixed(1)} s (${rate}${stop}; ${(wallMs / 1000).toFixed(1)} s with shrinking), checkers on: ${found}`;
}

function outFile(kernel: string, seed: number, out: string | undefined, n: number): string {
  const base = out ?? `skmem-fuzz-${kernel}-${seed}.yaml`;
  if (n === 0) return base;
  return base.endsWith('.yaml') ? `${base.slice(0, -5)}-${n + 1}.yaml` : `${base}-${n + 1}`;
}

/** One failure: what fired, the shrunk steps, the explanation, the file and its replay. */
function report(f: FuzzFailure, n: number, r: FuzzResult, out: string | undefined, overrides: Record<string, string>): void {
  const first = f.result.violations[0];
  const what = first ? `${first.kernel ? 'KERNEL WARN' : 'IDENTITY BROKEN'} ${first.rule}` : f.result.error ? `MODEL ERROR ${f.result.error}` : `WARNING ${f.result.warnings[0]?.check}`;
  const teardown = f.scenario.steps.length - f.generatedSteps;
  const labels: Record<number, string> = {};
  for (let i = f.generatedSteps; i < f.scenario.steps.length; i++) labels[i] = 'teardown';
  const lines = [
    '',
    `FAILURE ${n + 1}: ${what}`,
    `  signatures: ${f.result.signatures.join(', ')}`,
    `  found after ${fmt(f.found.runs)} runs, ${fmt(f.found.steps)} steps, ${(f.found.elapsedMs / 1000).toFixed(2)} s (search seed ${f.seed}); shrunk in ${fmt(f.shrinkRuns)} runs to ${f.generatedSteps} step(s) + ${teardown} teardown`,
    `  swarm: ${describeSwarm(f)}`,
    '  steps:',
    ...f.scenario.steps.map((s, i) => `    ${String(i).padStart(2)}  ${describeOp(s as Record<string, unknown>)}${labels[i] ? '   (teardown)' : ''}`),
    '',
    explain({ violations: f.result.violations, warnings: f.result.warnings, trail: f.result.trail, stepLabels: labels }),
  ];
  const file = outFile(r.kernel, r.seed, out, n);
  const name = file.replace(/^.*\//, '').replace(/\.yaml$/, '').toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
  const notes: Record<number, string> = {};
  for (const v of f.result.violations) notes[v.step] = `${v.kernel ? 'KERNEL WARN' : 'IDENTITY BROKEN'} ${v.rule} fires here: ${v.check}`;
  const text = scenarioYaml({ ...f.scenario, name }, {
    description: `Found by skmem fuzz on ${r.kernel} (seed ${f.seed}): ${what}. Replay with: skmem run ${file} --check`,
    header: [`Written by skmem fuzz --kernel ${r.kernel} --seed ${r.seed}; replay: skmem run ${file} --check`],
    notes,
  });
  writeFileSync(file, text);
  lines.push('', `scenario written to ${file}`, `replay: skmem run ${file} --check${Object.keys(overrides).length ? Object.entries(overrides).map(([k, v]) => ` --set ${k}=${v}`).join('') : ''}`);
  lines.push(`  (${verifyReplay(text, file, r.kernel, f, overrides)})`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Re-reads the written file and runs it: the same signatures must come back. */
function verifyReplay(text: string, file: string, kernel: string, f: FuzzFailure, overrides: Record<string, string>): string {
  const replay = classifyCase(kernel, parseScenarioText(text, file).scenario, overrides);
  const same = replay.signatures.join() === f.result.signatures.join();
  return same ? 'replay checked: the file reproduces the same finding' : `replay MISMATCH: the file gives ${replay.signatures.join(', ') || 'nothing'}`;
}

function describeSwarm(f: FuzzFailure): string {
  const s = f.swarm;
  const weights = Object.entries(s.weights).map(([k, w]) => `${k}x${w}`).join(' ');
  return `start ${s.connection.start}, ${s.connection.family}, sender ${JSON.stringify(s.sender)}, config ${JSON.stringify(s.config)}, sysctl ${JSON.stringify(s.sysctl)}; ops ${weights}`;
}
