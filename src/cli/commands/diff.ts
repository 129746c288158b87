// skmem diff FILE...: each scenario on the model and on the live kernel, side by side.
import type { Command } from 'commander';
import { runScenario } from '../../backends/index.ts';
import { parseSetFlags } from '../../backends/model/overrides.ts';
import { diffObservations, diffTable } from '../../report/diff.ts';
import { loadScenarioFile } from '../../scenario/parse.ts';

const collect = (v: string, acc: string[]) => [...acc, v];

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('run scenarios on the model and on the live kernel and show where they differ (root, Linux)')
    .argument('<files...>', 'scenario files')
    .option('-k, --kernel <profile>', 'model profile (default: auto, the closest to this kernel)', 'auto')
    .option('-s, --set <key=value>', 'override a model config fact or sysctl (repeatable)', collect, [])
    .option('--json', 'machine-readable output: one record per scenario with its differing fields')
    .addHelpText('after', '\nCells show one value where the backends agree and "model|live *" where they differ.\nExit status: 0 when every scenario matches, 1 otherwise, 2 on bad input, 3 when the live backend cannot run here.')
    .action(async (files: string[], o: { kernel: string; set: string[]; json?: boolean }) => {
      const overrides = parseSetFlags(o.set);
      const records = [];
      let matched = 0;
      for (const [n, file] of files.entries()) {
        if (files.length > 3 && !o.json) process.stderr.write(`[${n + 1}/${files.length}] ${file}\n`);
        const loaded = loadScenarioFile(file);
        const model = await runScenario(loaded, { backend: 'model', kernel: o.kernel, overrides });
        const live = await runScenario(loaded, { backend: 'live' });
        const diffs = diffObservations(model, live);
        if (diffs.length === 0) matched++;
        records.push({ file, scenario: loaded.scenario.name, profile: model.kernel.profile, match: diffs.length === 0, diffs, unknown: live.unknown ?? {} });
        if (!o.json) {
          process.stdout.write(`${loaded.scenario.name} (${file}): model ${model.kernel.profile} vs live ${live.kernel.release}: ${diffs.length === 0 ? 'match' : `${diffs.length} field(s) differ`}\n`);
          process.stdout.write(`${diffTable(model, live, diffs)}\n`);
          const setupDiffs = diffs.filter((d) => d.step === -1);
          for (const d of setupDiffs) process.stdout.write(`setup ${d.field}: model ${d.model}, live ${d.live}\n`);
          process.stdout.write('\n');
        }
      }
      const summary = `${matched}/${files.length} scenarios match`;
      process.stdout.write(o.json ? `${JSON.stringify({ summary, matched, total: files.length, scenarios: records }, null, 2)}\n` : `${summary}\n`);
      if (matched !== files.length) process.exitCode = 1;
    });
}
