// The checkers, and a model run with all of them on. Each family lives in its own file and
// cites the kernel check or accounting rule it mirrors:
//   kernel_destruct.ts    sk_stream_kill_queues(), inet_sock_destruct()   (kernel WARNs)
//   kernel_coalesce.ts    skb_try_coalesce() on local delivery          (kernel WARN)
//   queue_identity.ts     sk_wmem_queued = sum of queued truesize
//   mem_identity.ts       pages scheduled/reclaimed vs fwd and charges, tcp_memory_allocated, memcg
//   zerocopy_identity.ts  optmem, ubuf_info references, notification ids, sk_zckey
import { runModel, type ModelRunOptions } from '../backends/model/run.ts';
import type { Observation } from '../scenario/observation.ts';
import type { LoadedScenario } from '../scenario/parse.ts';
import { CoalesceChecker } from './kernel_coalesce.ts';
import { DestructChecker } from './kernel_destruct.ts';
import { MemIdentityChecker } from './mem_identity.ts';
import { QueueIdentityChecker } from './queue_identity.ts';
import type { Checker, Violation } from './types.ts';
import { ZerocopyIdentityChecker } from './zerocopy_identity.ts';

export type { Checker, ModelView, Violation } from './types.ts';

/** A fresh set of every checker (they keep per-run state: one set per run). */
export function createCheckers(): Checker[] {
  return [new DestructChecker(), new CoalesceChecker(), new QueueIdentityChecker(), new MemIdentityChecker(), new ZerocopyIdentityChecker()];
}

/** All findings of a set of checkers, in step order (kernel WARNs first within a step). */
export function collectViolations(checkers: readonly Checker[]): Violation[] {
  const all = checkers.flatMap((c) => c.violations);
  return all.sort((a, b) => a.step - b.step || Number(b.kernel) - Number(a.kernel));
}

export interface CheckedRun {
  obs: Observation;
  violations: Violation[];
}

/** runModel() with every checker on. */
export function runChecked(loaded: LoadedScenario, opts: Omit<ModelRunOptions, 'checkers'> = {}): CheckedRun {
  const checkers = createCheckers();
  const obs = runModel(loaded, { ...opts, checkers });
  return { obs, violations: collectViolations(checkers) };
}
