// skmem run FILE: one scenario on one backend, as a table or the JSON contract.
import type { Command } from 'commander';
import { runScenario } from '../../backends/index.ts';
import { parseSetFlags, type Overrides } from '../../backends/model/overrides.ts';
import { runModel } from '../../backends/model/run.ts';
import { explain } from '../../checkers/explain.ts';
import { collectViolations, createCheckers } from '../../checkers/index.ts';
import { TrailRecorder } from '../../checkers/trail.ts';
import { withTracer } from '../../model/trace.ts';
import type { Observation } from '../../scenario/observation.ts';
import type { LoadedScenario } from '../../scenario/parse.ts';
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
    .option('-c, --check', 'model backend: run the checkers (kernel WARNs, accounting identities) after every step and explain what fires')
    .addHelpText('after', '\nExit status: 0 when every expect step holds (and, with --check, no checker fires), 1 otherwise, 2 on bad input.')
    .action(async (file: string, o: { kernel?: string; backend: string; set: string[]; json?: boolean; explain?: boolean; check?: boolean }) => {
      if (o.backend !== 'model' && o.backend !== 'live') throw new UsageError(`--backend ${o.backend}: expected model or live`);
      const loaded = loadScenarioFile(file);
      if (o.explain && o.backend === 'live') throw new UsageError('--explain needs the model backend: the live kernel does not say why');
      if (o.check && o.backend === 'live') throw new UsageError('--check needs the model backend: the checkers read the model\'s state');
      const overrides = parseSetFlags(o.set);
      if (o.check) {
        checkedRun(loaded, await resolveKernel(o.kernel), overrides, o.explain ?? false, o.json ?? false);
        return;
      }
      const obs = await runScenario(loaded, { backend: o.backend, kernel: o.kernel, overrides, explain: o.explain });
      process.stdout.write(o.json ? `${JSON.stringify(obs, null, 2)}\n` : `${observationTable(obs)}\n`);
      if (failedExpectations(obs) > 0) {
        if (o.json) process.stderr.write(`skmem: ${failedExpectations(obs)} expectation(s) failed\n`);
        process.exitCode = 1;
      }
    });
}

/** --kernel auto resolved to a profile and this machine's facts, as runScenario() does. */
async function resolveKernel(kernel: string | undefined): Promise<{ kernel?: string; machine?: Overrides }> {
  if (kernel !== 'auto') return { kernel };
  const { autoKernel } = await import('../../backends/auto.ts');
  const auto = await autoKernel();
  return { kernel: auto.kernel, machine: auto.overrides };
}

/** `run --check`: the model with every checker and the accounting trail on; exit 1 if one fires. */
function checkedRun(loaded: LoadedScenario, k: { kernel?: string; machine?: Overrides }, overrides: Overrides, explainSteps: boolean, json: boolean): void {
  const checkers = createCheckers();
  const trail = new TrailRecorder();
  const obs: Observation = withTracer(trail.tracer, () => runModel(loaded, { ...k, overrides, explain: explainSteps, checkers: [...checkers, trail] }));
  const violations = collectViolations(checkers);
  if (json) process.stdout.write(`${JSON.stringify({ ...obs, checks: violations }, null, 2)}\n`);
  else {
    process.stdout.write(`${observationTable(obs)}\n\n`);
    const text = violations.length === 0 ? 'checkers: nothing fired (kernel WARNs and accounting identities hold after every step)' : explain({ violations, warnings: obs.warnings, trail: trail.steps });
    process.stdout.write(`${text}\n`);
  }
  if (violations.length > 0 || failedExpectations(obs) > 0) process.exitCode = 1;
}
