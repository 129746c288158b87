// Model vs live: which fields of which steps differ. Fields a backend reports as null are not
// compared (the backend says why in its `unknown` map).
import type { Observation, StepObservation } from '../scenario/observation.ts';
import { MEMINFO_FIELDS } from '../scenario/observation.ts';
import { describeNotifications, describeOp, describeResult, renderTable } from './table.ts';

export interface FieldDiff {
  step: number;
  field: string;
  model: unknown;
  live: unknown;
}

/** The fields the validation compares, by name, for one step. */
export function comparedFields(s: StepObservation): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of MEMINFO_FIELDS) out[f] = s.meminfo[f];
  out.memcg_sock_bytes = s.memcg_sock_bytes;
  out.skbs = s.skbs;
  out.unsent = s.unsent;
  out.outq = s.outq;
  out.result = s.result;
  out.notifications = s.notifications;
  return out;
}

export function diffObservations(model: Observation, live: Observation): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  const setup = { model: model.setup.sender, live: live.setup.sender };
  for (const f of MEMINFO_FIELDS) {
    if (setup.model[f] !== setup.live[f]) diffs.push({ step: -1, field: f, model: setup.model[f], live: setup.live[f] });
  }
  model.steps.forEach((ms, i) => {
    const ls = live.steps[i];
    if (ls === undefined || 'expect' in ms.op) return;
    const a = comparedFields(ms);
    const b = comparedFields(ls);
    for (const k of Object.keys(a)) {
      if (a[k] === null || b[k] === null) continue;
      if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) diffs.push({ step: i, field: k, model: a[k], live: b[k] });
    }
  });
  return diffs;
}

const SHOWN = ['fwd_alloc', 'wmem_queued', 'optmem', 'sndbuf', 'memcg_sock_bytes', 'skbs', 'outq'] as const;
const SHORT: Record<string, string> = { fwd_alloc: 'f', wmem_queued: 'w', optmem: 'o', sndbuf: 'tb', memcg_sock_bytes: 'memcg', skbs: 'skbs', outq: 'outq' };

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return describeNotifications(v as never) || '[]';
  if (typeof v === 'object') return describeResult(v as never);
  return String(v);
}

/** Side by side: each cell shows the shared value, or "model|live *" where they differ. */
export function diffTable(model: Observation, live: Observation, diffs: FieldDiff[]): string {
  const by = new Map(diffs.map((d) => [`${d.step}:${d.field}`, d]));
  const header = ['#', 'op', 'result', ...SHOWN.map((f) => SHORT[f]), 'notifications'];
  const rows = model.steps.map((ms, i) => {
    if ('expect' in ms.op) return [String(i), 'expect', '', ...SHOWN.map(() => ''), ''];
    const ls = live.steps[i];
    const m = comparedFields(ms);
    const l = ls ? comparedFields(ls) : {};
    const show = (k: string) => (by.has(`${i}:${k}`) ? `${cell(m[k])}|${cell(l[k])} *` : cell(m[k] ?? l[k]));
    return [String(i), describeOp(ms.op), show('result'), ...SHOWN.map(show), show('notifications')];
  });
  return renderTable(rows, header);
}
