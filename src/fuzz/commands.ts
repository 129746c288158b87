// The fuzzer's operations as fast-check model-based commands (fc.commands / fc.modelRun):
// the "model" is what decides which operations are legal next (after close() only drain,
// errqueue and sleep), the "real system" records the steps of the scenario the run will
// execute. fast-check's command shrinker then removes and simplifies steps.
import fc from 'fast-check';
import { describeOp } from '../report/table.ts';
import type { Step } from '../scenario/schema.ts';
import { AFTER_CLOSE, STEP_ARBS, type OpKind } from './ops.ts';

/** What the commands know about the connection. */
export interface CommandModel {
  closed: boolean;
  /** TCP_CORK is on. */
  corked: boolean;
  /** The last send asked for MSG_MORE: its partial tail may be held back. */
  moreHeld: boolean;
}

export class FuzzCommand implements fc.Command<CommandModel, Step[]> {
  constructor(
    readonly kind: OpKind,
    readonly step: Step,
  ) {}

  /**
   * After close() only drain, errqueue and sleep; and no drain while TCP_CORK or MSG_MORE may
   * hold a partial skb back (the model refuses a drain that cannot finish, as the live
   * backend's would time out).
   */
  check(m: Readonly<CommandModel>): boolean {
    if (m.closed && !AFTER_CLOSE.has(this.kind)) return false;
    return this.kind !== 'drain' || m.closed || (!m.corked && !m.moreHeld);
  }

  run(m: CommandModel, steps: Step[]): void {
    steps.push(this.step);
    if (this.kind === 'close') m.closed = true;
    if (this.kind === 'cork') m.corked = true;
    if (this.kind === 'uncork') m.corked = m.moreHeld = false;
    const send = 'send' in this.step ? this.step.send : 'send_until_eagain' in this.step ? this.step.send_until_eagain : null;
    if (send !== null) m.moreHeld = send.flags?.includes('MSG_MORE') ?? false;
    if ('sendfile' in this.step) m.moreHeld = false;
  }

  toString(): string {
    return describeOp(this.step as Record<string, unknown>);
  }
}

/** One weighted generator over the swarm's enabled kinds. */
export function commandArb(weights: Partial<Record<OpKind, number>>): fc.Arbitrary<FuzzCommand> {
  const weighted = Object.entries(weights).map(([kind, weight]) => ({
    weight: weight!,
    arbitrary: STEP_ARBS[kind as OpKind].map((step) => new FuzzCommand(kind as OpKind, step)),
  }));
  return fc.oneof(...weighted);
}

/** Replays commands into steps: the legal ones in order, and whether close() ran. */
export function toSteps(cmds: Iterable<fc.Command<CommandModel, Step[]>>, corked: boolean): { steps: Step[]; closed: boolean } {
  const steps: Step[] = [];
  const model: CommandModel = { closed: false, corked, moreHeld: false };
  fc.modelRun(() => ({ model, real: steps }), cmds);
  return { steps, closed: model.closed };
}
