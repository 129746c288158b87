// The search: fast-check generates a swarm configuration and a command sequence per run,
// the run executes on the model with every checker on, and the first failing run is shrunk.
// Two phases, so that a time budget never cuts a shrink short: (1) search with endOnFailure
// and the time limit; (2) replay the failing run from its seed and path and shrink it fully.
// With keepGoing, a failure whose signatures were all found already counts as a pass, and the
// search resumes (next seed) until the budget ends. Deterministic for a given seed, runs and
// steps; only where a time limit stops the search depends on the machine.
import fc from 'fast-check';
import type { Overrides } from '../backends/model/overrides.ts';
import type { Scenario, Step } from '../scenario/schema.ts';
import { commandArb, toSteps, type CommandModel } from './commands.ts';
import { minimize } from './minimize.ts';
import { buildScenario, connOptionsArb, weightsArb, type ConnOptions, type OpKind, type Swarm } from './ops.ts';
import { classifyCase, runCase, type Classified } from './run_case.ts';

export interface FuzzOptions {
  kernel: string;
  seed: number;
  /** Most runs (each one scenario) over the whole search. */
  runs: number;
  /** Most generated steps per run (teardown not counted). */
  maxSteps: number;
  /** Stop searching after this long (shrinking always completes); null = no limit. */
  timeLimitMs: number | null;
  ops: readonly OpKind[];
  keepGoing: boolean;
  overrides?: Overrides;
  /** Called about every progressEveryMs with the counters so far. */
  onProgress?: (p: Progress) => void;
  progressEveryMs?: number;
}

export interface Progress {
  runs: number;
  /** Steps executed, the close/drain teardown of each run included. */
  steps: number;
  /** Of those, the generated (random) ones. */
  generated: number;
  elapsedMs: number;
  failures: number;
}

export interface FuzzFailure {
  /** The seed of the fast-check search that found it (the session seed, or a keep-going successor). */
  seed: number;
  found: Progress;
  /** Runs spent shrinking: fast-check's command shrinker, then the 1-minimal pass. */
  shrinkRuns: number;
  swarm: Swarm;
  /** The shrunk scenario, teardown included. */
  scenario: Scenario;
  /** How many of its steps are generated (the rest is teardown). */
  generatedSteps: number;
  result: Classified;
}

export interface FuzzResult {
  seed: number;
  kernel: string;
  runs: number;
  steps: number;
  generated: number;
  elapsedMs: number;
  /** The search stopped at the time limit before reaching its run count. */
  timedOut: boolean;
  /** Runs the model refused (UsageError), by reason: not failures, but reported. */
  rejected: Record<string, number>;
  failures: FuzzFailure[];
}

type Weights = Partial<Record<OpKind, number>>;
type Input = [ConnOptions, [Weights, Iterable<fc.Command<CommandModel, Step[]>>]];

class Search {
  runs = 0;
  steps = 0;
  generated = 0;
  readonly rejected: Record<string, number> = {};
  private readonly t0 = Date.now();
  private lastProgress = Date.now();
  readonly known = new Set<string>();
  /** The last failing run of the current fast-check execution (after shrinking: the smallest). */
  lastFailure: { swarm: Swarm; scenario: Scenario; generated: number; result: Classified | null } | null = null;

  constructor(private readonly o: FuzzOptions) {}

  elapsed(): number {
    return Date.now() - this.t0;
  }

  /**
   * The connection options shrink on their own; the swarm weights only steer generation (they
   * are chained to the commands, whose shrinker then works on a fixed mix). Sequence lengths
   * spread over 0..maxSteps (size 'max'), not fast-check's default of a few commands.
   */
  arbitrary(): fc.Arbitrary<Input> {
    const commands = weightsArb(this.o.ops).chain((w) => fc.tuple(fc.constant(w), fc.commands([commandArb(w)], { maxCommands: this.o.maxSteps, size: 'max' })));
    return fc.tuple(connOptionsArb, commands);
  }

  /** The property: true when the run is clean (or only repeats bugs already found). */
  property = ([conn, [weights, cmds]]: Input): boolean => {
    const { steps, closed } = toSteps(cmds, conn.sender.tcp_cork === true);
    const swarm: Swarm = { ...conn, weights };
    const scenario = buildScenario(`fuzz-${this.o.kernel}-${this.o.seed}`, this.o.kernel, conn, steps, closed);
    const out = runCase(this.o.kernel, scenario, this.o.overrides);
    this.count(scenario.steps.length, steps.length);
    if (out.rejected !== null) this.rejected[out.rejected] = (this.rejected[out.rejected] ?? 0) + 1;
    if (!out.failed) return true;
    let result: Classified | null = null;
    if (this.o.keepGoing) {
      result = classifyCase(this.o.kernel, scenario, this.o.overrides);
      if (result.signatures.every((s) => this.known.has(s))) return true;
    }
    this.lastFailure = { swarm, scenario, generated: steps.length, result };
    return false;
  };

  private count(steps: number, generated: number): void {
    this.runs++;
    this.steps += steps;
    this.generated += generated;
    const every = this.o.progressEveryMs ?? 2000;
    if (this.o.onProgress && (this.runs & 63) === 0 && Date.now() - this.lastProgress >= every) {
      this.lastProgress = Date.now();
      this.o.onProgress(this.progress(0));
    }
  }

  progress(failures: number): Progress {
    return { runs: this.runs, steps: this.steps, generated: this.generated, elapsedMs: this.elapsed(), failures };
  }
}

export function fuzz(o: FuzzOptions): FuzzResult {
  const s = new Search(o);
  const failures: FuzzFailure[] = [];
  let seed = o.seed;
  let timedOut = false;
  for (let round = 0; ; round++) {
    const runsLeft = o.runs - s.runs;
    if (runsLeft <= 0) break;
    const timeLeft = o.timeLimitMs === null ? undefined : o.timeLimitMs - s.elapsed();
    if (timeLeft !== undefined && timeLeft <= 0) {
      timedOut = true;
      break;
    }
    const prop = fc.property(s.arbitrary(), s.property);
    const found = fc.check(prop, { seed, numRuns: runsLeft, endOnFailure: true, interruptAfterTimeLimit: timeLeft });
    if (!found.failed) {
      timedOut = found.interrupted;
      break;
    }
    const at = s.progress(failures.length);
    const rejectedAtFind = { ...s.rejected };
    const searchCounts = { runs: s.runs, steps: s.steps, generated: s.generated };
    // Phase 2: replay the failing run and shrink it, without a time limit.
    const shrunk = fc.check(prop, { seed: found.seed, path: found.counterexamplePath ?? undefined, numRuns: 1 });
    const last = s.lastFailure!;
    const classified = last.result ?? classifyCase(o.kernel, last.scenario, o.overrides);
    const wanted = classified.signatures.filter((sig) => !s.known.has(sig));
    const min = minimize(o.kernel, last.scenario, last.generated, wanted, o.overrides);
    failures.push({
      seed, found: at, shrinkRuns: s.runs - searchCounts.runs + min.attempts, swarm: last.swarm,
      scenario: min.scenario, generatedSteps: min.generated, result: min.result,
    });
    s.runs = searchCounts.runs; // shrinking runs are not search runs
    s.steps = searchCounts.steps;
    s.generated = searchCounts.generated;
    for (const k of Object.keys(s.rejected)) delete s.rejected[k]; // nor are their refusals
    Object.assign(s.rejected, rejectedAtFind);
    void shrunk;
    if (!o.keepGoing) break;
    for (const sig of min.result.signatures) s.known.add(sig);
    seed = (seed + 0x9e3779b9 * (round + 1)) | 0;
  }
  return { seed: o.seed, kernel: o.kernel, runs: s.runs, steps: s.steps, generated: s.generated, elapsedMs: s.elapsed(), timedOut, failures, rejected: s.rejected };
}
