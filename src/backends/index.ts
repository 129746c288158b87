// Picks the backend for a run: the model under a profile, or the live kernel.
import type { Observation } from '../scenario/observation.ts';
import type { LoadedScenario } from '../scenario/parse.ts';
import { UsageError } from '../cli/errors.ts';
import { autoKernel } from './auto.ts';
import { runModel } from './model/run.ts';
import type { Overrides } from './model/overrides.ts';

export interface RunOptions {
  backend: 'model' | 'live';
  kernel?: string;
  overrides?: Overrides;
  /** Model backend: record each step's accounting trail. */
  explain?: boolean;
}

export async function runScenario(loaded: LoadedScenario, opts: RunOptions): Promise<Observation> {
  if (opts.backend === 'live') {
    if (loaded.scenario.connection.path === 'link') {
      throw new UsageError(`${loaded.file}: connection.path link runs on the model only (the live backend drives loopback); run it with \`skmem run ${loaded.file}\` or \`skmem compare\`, link experiments with \`skmem bench msg_zerocopy --link <rate> --rtt <time>\``);
    }
    const live = await import('./live/index.ts');
    return live.runLive(loaded, { profileLabel: 'live' });
  }
  if (opts.kernel === 'auto') {
    const auto = await autoKernel();
    return runModel(loaded, { kernel: auto.kernel, machine: auto.overrides, overrides: opts.overrides, explain: opts.explain });
  }
  return runModel(loaded, { kernel: opts.kernel, overrides: opts.overrides, explain: opts.explain });
}
