// skmem compare FILE --kernel a,b,c: the same scenario under several profiles, side by side.
import type { Command } from 'commander';
import { parseSetFlags } from '../../backends/model/overrides.ts';
import { runModel } from '../../backends/model/run.ts';
import { PROFILE_NAMES } from '../../profiles/index.ts';
import type { Observation, StateFields } from '../../scenario/observation.ts';
import { describeOp, describeResult, renderTable } from '../../report/table.ts';
import { loadScenarioFile } from '../../scenario/parse.ts';
import { UsageError } from '../errors.ts';

const FIELDS: [string, (s: StateFields) => number | null][] = [
  ['fwd_alloc', (s) => s.meminfo.fwd_alloc],
  ['wmem_queued', (s) => s.meminfo.wmem_queued],
  ['optmem', (s) => s.meminfo.optmem],
  ['memcg', (s) => s.memcg_sock_bytes],
  ['skbs', (s) => s.skbs],
];

export function compareTable(obs: Observation[]): string {
  const header = ['#', 'op', 'field', ...obs.map((o) => o.kernel.profile), ''];
  const rows: string[][] = [];
  obs[0].steps.forEach((step, i) => {
    if ('expect' in step.op) return;
    FIELDS.forEach(([name, get], fi) => {
      const vals = obs.map((o) => get(o.steps[i]));
      const differs = new Set(vals.map(String)).size > 1;
      const results = obs.map((o) => describeResult(o.steps[i].result));
      const resultNote = fi === 0 && new Set(results).size > 1 ? ` results: ${results.join(' | ')}` : '';
      rows.push([fi === 0 ? String(i) : '', fi === 0 ? describeOp(step.op) : '', name, ...vals.map((v) => (v === null ? '-' : String(v))), (differs ? '<- differs' : '') + resultNote]);
    });
  });
  const warn = obs.flatMap((o) => o.warnings.map((w) => `${o.kernel.profile}: WARNING at step ${w.step}: ${w.check}: ${w.message}`));
  return [renderTable(rows, header), ...(warn.length ? ['', ...warn] : [])].join('\n');
}

const collect = (v: string, acc: string[]) => [...acc, v];

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('run a scenario under several kernel profiles and mark what differs')
    .argument('<file>', 'scenario file')
    .option('-k, --kernel <list>', 'comma-separated profiles', PROFILE_NAMES.join(','))
    .option('-s, --set <key=value>', 'override a config fact or sysctl (repeatable)', collect, [])
    .option('--json', 'print the observations as a JSON array')
    .action((file: string, o: { kernel: string; set: string[]; json?: boolean }) => {
      const loaded = loadScenarioFile(file);
      const kernels = o.kernel.split(',').map((k) => k.trim()).filter(Boolean);
      if (kernels.length === 0) throw new UsageError('--kernel: expected at least one profile');
      const overrides = parseSetFlags(o.set);
      const obs = kernels.map((k) => runModel(loaded, { kernel: k, overrides }));
      process.stdout.write(o.json ? `${JSON.stringify(obs, null, 2)}\n` : `${loaded.scenario.name}: ${kernels.join(' vs ')}\n\n${compareTable(obs)}\n`);
    });
}
