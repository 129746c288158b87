// Running one fuzzed scenario on the model with every checker on, and classifying a failure.
import { runModel } from '../backends/model/run.ts';
import type { Overrides } from '../backends/model/overrides.ts';
import { collectViolations, createCheckers, type Violation } from '../checkers/index.ts';
import { findCauses, signaturesOf, type Cause } from '../checkers/explain.ts';
import { TrailRecorder, type TrailStep } from '../checkers/trail.ts';
import { withTracer } from '../model/trace.ts';
import { UsageError } from '../cli/errors.ts';
import type { Warning } from '../scenario/observation.ts';
import type { LoadedScenario } from '../scenario/parse.ts';
import type { Scenario } from '../scenario/schema.ts';

export interface CaseOutcome {
  failed: boolean;
  violations: Violation[];
  warnings: Warning[];
  /** A model exception other than a refusal: an internal error is a finding too. */
  error: string | null;
  /** The model refused the scenario (a UsageError: not modelled, or a drain that cannot finish). */
  rejected: string | null;
}

const loadedOf = (scenario: Scenario): LoadedScenario => ({ scenario, file: `${scenario.name}.yaml`, stepLines: [] });

/** The hot path: one run, checkers on, no trail. */
export function runCase(kernel: string, scenario: Scenario, overrides: Overrides = {}, extra: TrailRecorder[] = []): CaseOutcome {
  const checkers = createCheckers();
  try {
    const obs = runModel(loadedOf(scenario), { kernel, overrides, checkers: [...checkers, ...extra] });
    const violations = collectViolations(checkers);
    return { failed: violations.length > 0 || obs.warnings.length > 0, violations, warnings: obs.warnings, error: null, rejected: null };
  } catch (e) {
    if (e instanceof UsageError) return { failed: false, violations: [], warnings: [], error: null, rejected: refusal(e.message) };
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { failed: true, violations: collectViolations(checkers), warnings: [], error, rejected: null };
  }
}

/** A refusal without its "file:line: steps[i]:" prefix and its numbers, to count refusals by kind. */
function refusal(message: string): string {
  return message.replace(/^[^:]*:[^:]*: (steps\[\d+\]: )?/, '').replace(/\d+/g, 'N');
}

export interface Classified extends CaseOutcome {
  trail: TrailStep[];
  causes: Cause[];
  /** One per finding: the rule (plus, for a fwd residue, what met a pure skb). */
  signatures: string[];
}

/** Re-runs a failing scenario with the accounting trail on, to explain and classify it. */
export function classifyCase(kernel: string, scenario: Scenario, overrides: Overrides = {}): Classified {
  const trail = new TrailRecorder();
  const out = withTracer(trail.tracer, () => runCase(kernel, scenario, overrides, [trail]));
  const causes = findCauses(trail.steps);
  const sigs = new Set(out.violations.flatMap((v) => signaturesOf(v, causes)));
  for (const w of out.warnings) if (!out.violations.some((v) => v.kernel && v.step === w.step)) sigs.add(`warning:${w.check}`);
  if (out.error !== null) sigs.add(`exception:${out.error.split(':')[0]}`);
  return { ...out, trail: trail.steps, causes, signatures: [...sigs].sort() };
}
