// Shared plumbing of the checkers: each rule reports once per run (like WARN_ON_ONCE), so a
// broken identity that stays broken does not flood the report.
import type { Step } from '../scenario/schema.ts';
import type { Checker, ModelView, Violation } from './types.ts';

export abstract class BaseChecker implements Checker {
  abstract readonly name: string;
  readonly violations: Violation[] = [];
  private readonly fired = new Set<string>();
  /** Index of the step now running (events reported from inside a step carry it). */
  protected current = -1;

  afterStep(view: ModelView, index: number, step: Step | null): void {
    this.current = index;
    this.check(view, index, step);
    this.current = index + 1;
  }

  protected abstract check(view: ModelView, index: number, step: Step | null): void;

  protected report(v: Omit<Violation, 'step' | 'skbs'> & { step?: number; skbs?: number[] }): void {
    if (this.fired.has(v.rule)) return;
    this.fired.add(v.rule);
    this.violations.push({ ...v, step: v.step ?? this.current, skbs: v.skbs ?? [] });
  }
}

/** Every skb the sender still holds: retransmit queue (oldest data) first, then the write queue. */
export function queuedSkbs(view: ModelView) {
  return [...view.sk.rtx_queue, ...view.sk.write_queue];
}
