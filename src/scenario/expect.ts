// `expect` steps: compare observation fields (by dotted path) with expected values.
// Shared by every backend so that an expectation means the same thing everywhere.
import { MEMINFO_FIELDS, type ExpectFailure, type StepObservation } from './observation.ts';

const MISSING = Symbol('missing');

/**
 * Resolves a dotted path ("notifications.0.hi", "result.ret", "meminfo.fwd_alloc") on a step
 * observation. A bare SO_MEMINFO field name ("wmem_queued") means meminfo.<field>.
 */
export function resolvePath(obs: StepObservation, path: string): unknown {
  const parts = path.split('.');
  if ((MEMINFO_FIELDS as readonly string[]).includes(parts[0])) parts.unshift('meminfo');
  let cur: unknown = obs;
  for (const part of parts) {
    if (cur === null || typeof cur !== 'object') return MISSING;
    const rec = cur as Record<string, unknown>;
    if (!(part in rec)) return MISSING;
    cur = rec[part];
  }
  return cur;
}

export function checkExpectations(obs: StepObservation, expected: Record<string, unknown>): ExpectFailure[] {
  const failures: ExpectFailure[] = [];
  for (const [path, want] of Object.entries(expected)) {
    const got = resolvePath(obs, path);
    if (got === MISSING) failures.push({ path, expected: want, actual: '(no such field)' });
    else if (!sameValue(got, want)) failures.push({ path, expected: want, actual: got });
  }
  return failures;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b);
}
