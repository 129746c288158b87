// skmem run FILE: one scenario on one backend, as a table or the JSON contract.
import type { Command } from 'commander';
import { runScenario } from '../../backends/index.ts';
import { parseSetFlags } from '../../backends/model/overrides.ts';
import { failedExpectations, observationTable } from '../../report/table.ts';
import { loadScenarioFile } from '../../scenario/parse.ts';
import { UsageError } from '../errors.ts';

const collect = (v: string, acc: string[]) => [...acc, v];

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a scenario file and print the state after every step')
    .argument('<file>', 'scenario file (YAML or JSON)')
    .option('-k, --kernel <profile>', 'kernel profile: 5.15, 5.16-v1, 5.16, 5.17, 6.18, or auto (overrides the file)')
    .option('-b, --backend <backend>', 'model or live', 'model')
    .option('-s, --set <key=value>', 'override a config fact or sysctl (repeatable)', collect, [])
    .option('--json', 'print the observation JSON contract instead of a table')
    .option('-e, --explain', 'model backend: print what each kernel function charged, uncharged or refused at every step, and why')
    .addHelpText('after', '\nExit status: 0 when every expect step holds, 1 when one fails, 2 on bad input.')
    .action(async (file: string, o: { kernel?: string; backend: string; set: string[]; json?: boolean; explain?: boolean }) => {
      if (o.backend !== 'model' && o.backend !== 'live') throw new UsageError(`--backend ${o.backend}: expected model or live`);
      const loaded = loadScenarioFile(file);
      if (o.explain && o.backend === 'live') throw new UsageError('--explain needs the model backend: the live kernel does not say why');
      const obs = await runScenario(loaded, { backend: o.backend, kernel: o.kernel, overrides: parseSetFlags(o.set), explain: o.explain });
      process.stdout.write(o.json ? `${JSON.stringify(obs, null, 2)}\n` : `${observationTable(obs)}\n`);
      if (failedExpectations(obs) > 0) {
        if (o.json) process.stderr.write(`skmem: ${failedExpectations(obs)} expectation(s) failed\n`);
        process.exitCode = 1;
      }
    });
}
