// A last shrinking pass after fast-check's: make the counterexample 1-minimal (delta debugging,
// Zeller & Hildebrandt 2002, one element at a time). Try to drop each generated step, each
// optional argument, and each connection option that differs from the scenario defaults, and
// keep every change after which the run still fails with one of the signatures it is being
// shrunk for. Bounded: at most MAX_ROUNDS passes over the scenario.
import type { Overrides } from '../backends/model/overrides.ts';
import type { Scenario, Step } from '../scenario/schema.ts';
import { teardown } from './ops.ts';
import { classifyCase, type Classified } from './run_case.ts';

const MAX_ROUNDS = 12;

export interface Minimized {
  scenario: Scenario;
  generated: number;
  result: Classified;
  attempts: number;
}

/** `wanted`: the signatures this counterexample stands for (a candidate must keep one). */
export function minimize(kernel: string, scenario: Scenario, generated: number, wanted: readonly string[], overrides: Overrides = {}): Minimized {
  let best = { steps: scenario.steps.slice(0, generated), scenario };
  let result = classifyCase(kernel, scenario, overrides);
  let attempts = 0;
  const tryCandidate = (steps: Step[], base: Scenario): boolean => {
    attempts++;
    const closed = steps.some((s) => 'close' in s);
    const candidate: Scenario = { ...base, steps: [...steps, ...teardown(closed)] };
    const r = classifyCase(kernel, candidate, overrides);
    if (!r.failed || !r.signatures.some((s) => wanted.includes(s))) return false;
    best = { steps, scenario: candidate };
    result = r;
    return true;
  };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let changed = false;
    for (let i = best.steps.length - 1; i >= 0; i--) {
      if (tryCandidate(best.steps.filter((_, j) => j !== i), best.scenario)) changed = true;
    }
    for (let i = 0; i < best.steps.length; i++) {
      for (const simpler of simplerSteps(best.steps[i])) {
        if (tryCandidate(best.steps.map((s, j) => (j === i ? simpler : s)), best.scenario)) {
          changed = true;
          break;
        }
      }
    }
    for (const base of simplerOptions(best.scenario)) if (tryCandidate(best.steps, base)) changed = true;
    if (!changed) break;
  }
  return { scenario: best.scenario, generated: best.steps.length, result, attempts };
}

const asStep = (op: string, args: Record<string, unknown>): Step => ({ [op]: args }) as unknown as Step;

/**
 * Simpler versions of a step: a send_until_eagain as one send (or fewer calls), without one of
 * its optional arguments (flags, offset, contiguous, blocking), an iovec as one buffer, a
 * length of 1 or half as long.
 */
function simplerSteps(step: Step): Step[] {
  const [op, args] = Object.entries(step)[0] as [string, Record<string, unknown>];
  if (args === null || typeof args !== 'object' || !['send', 'send_until_eagain', 'sendfile'].includes(op)) return [];
  const out: Step[] = [];
  if (op === 'send_until_eagain') {
    const { max_calls, ...rest } = args;
    out.push(asStep('send', rest));
    if (typeof max_calls === 'number' && max_calls > 1) out.push(asStep(op, { ...args, max_calls: Math.floor(max_calls / 2) }));
  }
  for (const key of ['flags', 'offset', 'contiguous', 'blocking']) {
    if (key in args) {
      const { [key]: _drop, ...rest } = args;
      out.push(asStep(op, rest));
    }
  }
  if (Array.isArray(args.iov)) {
    const { iov, ...rest } = args;
    out.push(asStep(op, { len: (iov as number[]).reduce((a, b) => a + b, 0), ...rest }));
  }
  if (typeof args.len === 'number' && args.len > 1) {
    out.push(asStep(op, { ...args, len: 1 }));
    if (args.len > 2) out.push(asStep(op, { ...args, len: Math.floor(args.len / 2) }));
  }
  return out;
}

/** The scenario with one non-default connection option reset. */
function simplerOptions(sc: Scenario): Scenario[] {
  const out: Scenario[] = [];
  for (const key of Object.keys(sc.sysctl) as (keyof Scenario['sysctl'])[]) {
    const { [key]: _drop, ...rest } = sc.sysctl;
    out.push({ ...sc, sysctl: rest });
  }
  if (Object.keys(sc.config).length > 0) out.push({ ...sc, config: {} });
  if (sc.sender.tcp_cork) out.push({ ...sc, sender: { ...sc.sender, tcp_cork: undefined } });
  if (sc.connection.family !== 'ipv4') out.push({ ...sc, connection: { ...sc.connection, family: 'ipv4' } });
  if (sc.connection.start !== 'fresh') out.push({ ...sc, connection: { ...sc.connection, start: 'fresh' } });
  return out;
}
