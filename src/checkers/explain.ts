// Explaining a violation: which rule fired, the values it compared, what the run did to cause
// it (the operations that met a pure zerocopy skb), the socket's balance of pages and bytes,
// and the accounting trail of the skbs involved. Also gives each violation a signature, so
// that the fuzzer can tell distinct bugs apart.
import { PAGE_SIZE } from '../model/skb_geometry.ts';
import { renderTable } from '../report/table.ts';
import type { Warning } from '../scenario/observation.ts';
import type { SkbState, TrailStep } from './trail.ts';
import type { Violation } from './types.ts';

/** A cause the trail shows: an operation that the buggy policies get wrong. */
export interface Cause {
  step: number;
  tag: 'copy_onto_pure' | 'splice_onto_pure';
  text: string;
}

/**
 * Operations that met a pure zerocopy skb with room at the write-queue tail: a copy send (the
 * pure -> mixed downgrade, 479f5547239d) or a sendfile (sendpage / MSG_SPLICE_PAGES onto a pure
 * skb, f8d9d938514f).
 */
export function findCauses(trail: readonly TrailStep[]): Cause[] {
  const causes: Cause[] = [];
  for (const t of trail) {
    const tail = t.openTail;
    if (tail === null || !tail.pure) continue;
    const isSend = t.kind === 'send' || t.kind === 'send_until_eagain';
    const copies = isSend && !(t.args.zerocopy === true && t.before.so_zerocopy);
    if (copies) causes.push({ step: t.index, tag: 'copy_onto_pure', text: `step ${t.index} (${t.op}) appends copied data to pure zerocopy skb#${tail.id}: the pure -> mixed downgrade charges the payload it never charged` });
    if (t.kind === 'sendfile') causes.push({ step: t.index, tag: 'splice_onto_pure', text: `step ${t.index} (${t.op}) appends file pages (sendpage / MSG_SPLICE_PAGES) to pure zerocopy skb#${tail.id}` });
  }
  return causes;
}

/**
 * Signatures of one violation: its rule, and for a forward-alloc residue one per cause seen
 * ("destruct.fwd_alloc[copy_onto_pure]"), so that a run showing two known bugs at once is
 * recognised as known.
 */
export function signaturesOf(v: Violation, causes: readonly Cause[]): string[] {
  if (v.rule !== 'destruct.fwd_alloc') return [v.rule];
  const tags = [...new Set(causes.map((c) => c.tag))].sort();
  return tags.length === 0 ? [`${v.rule}[]`] : tags.map((t) => `${v.rule}[${t}]`);
}

export interface ExplainInput {
  violations: readonly Violation[];
  warnings: readonly Warning[];
  trail: readonly TrailStep[];
  /** Step index -> a label such as "teardown". */
  stepLabels?: Record<number, string>;
}

export function explain(input: ExplainInput): string {
  const { violations, trail } = input;
  const lines: string[] = [];
  for (const v of violations) lines.push(...describeViolation(v, trail, input.stepLabels ?? {}));
  const modelWarnings = input.warnings.filter((w) => !violations.some((v) => v.kernel && v.step === w.step));
  for (const w of modelWarnings) lines.push(`model WARNING at step ${w.step}: ${w.check}: ${w.message}`);
  const causes = findCauses(trail);
  if (causes.length > 0) lines.push('', 'what met a pure zerocopy skb:', ...causes.map((c) => `  ${c.text}`));
  if (violations.some((v) => v.rule.startsWith('destruct.') || v.rule.startsWith('identity.'))) lines.push('', ...balance(trail));
  const involved = involvedSkbs(violations, trail);
  lines.push('', `accounting trail${involved.size > 0 ? ` (skbs ${[...involved].map((id) => `#${id}`).join(', ')})` : ''}:`, trailTable(trail, involved, input.stepLabels ?? {}));
  const fns = kernelFunctions(trail, involved, input.stepLabels ?? {});
  if (fns.length > 0) lines.push('', 'what the kernel functions did to them:', ...fns);
  const perSkb = perSkbBalance(trail, involved);
  if (perSkb.length > 0) lines.push('', 'per skb (charges attributed where a step touched that skb alone):', ...perSkb.map((l) => `  ${l}`));
  return lines.join('\n');
}

function describeViolation(v: Violation, trail: readonly TrailStep[], labels: Record<number, string>): string[] {
  const t = trail.find((s) => s.index === v.step);
  const where = v.step < 0 ? 'setup' : `step ${v.step}${t ? ` (${t.op}${labels[v.step] ? `, ${labels[v.step]}` : ''})` : ''}`;
  const values = Object.entries(v.values).map(([k, n]) => `${k}=${n}`).join(' ');
  const out = [`${v.kernel ? 'KERNEL WARN' : 'IDENTITY BROKEN'} ${v.rule} at ${where}`, `  check: ${v.check}`, `  ${v.message}`, `  values: ${values}`];
  if (v.rule === 'coalesce.truesize') {
    const claimed = v.values.truesize - v.values.len;
    out.push(`  the skb claims ${claimed} bytes for its head (truesize - len), but its head really costs SKB_TRUESIZE(${v.values.end_offset}) = ${v.values.head_truesize}: ${v.values.head_truesize - claimed} bytes under-reported`);
  }
  return out;
}

function balance(trail: readonly TrailStep[]): string[] {
  const last = trail[trail.length - 1];
  if (last === undefined) return [];
  const s = last.after;
  const held = (s.scheduled_pages - s.reclaimed_pages) * PAGE_SIZE;
  return [
    "balance over the socket's life:",
    `  pages scheduled ${s.scheduled_pages}, reclaimed ${s.reclaimed_pages}: ${held} bytes still held`,
    `  bytes charged ${s.charged}, uncharged ${s.uncharged}: charged - uncharged = ${s.charged - s.uncharged}`,
    `  fwd_alloc = held - (charged - uncharged) = ${s.fwd_alloc}${s.fwd_alloc % PAGE_SIZE !== 0 ? ' (not a whole number of pages: no reclaim can bring it to 0)' : ''}`,
  ];
}

function involvedSkbs(violations: readonly Violation[], trail: readonly TrailStep[]): Set<number> {
  const ids = new Set<number>(violations.flatMap((v) => v.skbs));
  if (ids.size === 0) for (const t of trail) for (const c of t.skbs) ids.add(c.id);
  return ids;
}

function fmtSkb(s: SkbState): string {
  return `truesize ${s.truesize} (head ${s.head_truesize}), len ${s.len}${s.pure ? ', pure' : ''}${s.uarg_id !== null ? `, uarg ${s.uarg_id}` : ''}, ${s.queue} queue`;
}

function describeChange(c: TrailStep['skbs'][number]): string {
  const { before: b, after: a } = c;
  if (b === null && a !== null) return `skb#${c.id} new: ${fmtSkb(a)}`;
  if (b !== null && a === null) return `skb#${c.id} freed: ${fmtSkb(b)}`;
  const parts: string[] = [];
  if (b!.truesize !== a!.truesize) parts.push(`truesize ${b!.truesize}->${a!.truesize}`);
  if (b!.len !== a!.len) parts.push(`len ${b!.len}->${a!.len}`);
  if (b!.pure !== a!.pure) parts.push(a!.pure ? 'mixed->pure' : 'pure->mixed');
  if (b!.uarg_id !== a!.uarg_id) parts.push(`uarg ${b!.uarg_id}->${a!.uarg_id}`);
  if (b!.queue !== a!.queue) parts.push(`sent (${a!.queue} queue)`);
  if (b!.eor !== a!.eor) parts.push('EOR');
  return `skb#${c.id}: ${parts.join(', ')}`;
}

const arrow = (a: number, b: number) => (a === b ? String(a) : `${a}->${b}`);
const plus = (a: number, b: number) => (b - a === 0 ? '' : `+${b - a}`);

function trailTable(trail: readonly TrailStep[], involved: Set<number>, labels: Record<number, string>): string {
  const rows = trail.filter((t) => t.kind !== 'expect').map((t) => {
    const changes = t.skbs.filter((c) => involved.has(c.id)).map(describeChange).join('; ');
    const others = t.skbs.filter((c) => !involved.has(c.id)).length;
    return [
      String(t.index), `${t.op}${labels[t.index] ? ` (${labels[t.index]})` : ''}`, arrow(t.before.fwd_alloc, t.after.fwd_alloc), arrow(t.before.wmem_queued, t.after.wmem_queued),
      plus(t.before.scheduled_pages, t.after.scheduled_pages), plus(t.before.reclaimed_pages, t.after.reclaimed_pages),
      plus(t.before.charged, t.after.charged), plus(t.before.uncharged, t.after.uncharged),
      changes + (others > 0 ? `${changes ? '; ' : ''}(${others} other skb change(s))` : ''),
    ];
  });
  const header = ['step', 'op', 'fwd_alloc', 'wmem_queued', 'sched pg', 'recl pg', 'charged', 'uncharged', 'skbs'];
  return renderTable(rows, header).split('\n').map((l) => `  ${l}`).join('\n');
}

/** The traced kernel functions that acted on the involved skbs, step by step. */
function kernelFunctions(trail: readonly TrailStep[], involved: Set<number>, labels: Record<number, string>): string[] {
  const mentions = (what: string, id: number) => new RegExp(`skb #${id}(?!\\d)`).test(what);
  const out: string[] = [];
  for (const t of trail) {
    const evs = t.events.filter((e) => [...involved].some((id) => e.skb === id || mentions(e.what, id)));
    if (evs.length === 0) continue;
    out.push(`  step ${t.index} (${t.op}${labels[t.index] ? `, ${labels[t.index]}` : ''}):`);
    for (const e of evs) out.push(`    ${e.fn}: ${e.what}  [fwd_alloc ${e.fwd_alloc}, wmem_queued ${e.wmem_queued}]`);
  }
  return out;
}

/**
 * Charges and uncharges per skb, for the skbs that every step touched alone (otherwise the
 * socket's counters cannot be split between skbs; the kernel functions' account above can).
 */
function perSkbBalance(trail: readonly TrailStep[], involved: Set<number>): string[] {
  const acc = new Map<number, { charged: number; uncharged: number; shared: number[]; freed: boolean }>();
  for (const t of trail) {
    for (const c of t.skbs) {
      if (!involved.has(c.id)) continue;
      const e = acc.get(c.id) ?? { charged: 0, uncharged: 0, shared: [], freed: false };
      if (t.skbs.length === 1) {
        e.charged += t.after.charged - t.before.charged;
        e.uncharged += t.after.uncharged - t.before.uncharged;
      } else e.shared.push(t.index);
      if (c.after === null) e.freed = true;
      acc.set(c.id, e);
    }
  }
  return [...acc].filter(([, e]) => e.shared.length === 0).map(([id, e]) => {
    const verdict = e.freed && e.charged !== e.uncharged
      ? `: ${e.uncharged > e.charged ? `${e.uncharged - e.charged} bytes uncharged that were never charged` : `${e.charged - e.uncharged} bytes charged that were never uncharged`}`
      : '';
    return `skb#${id}: charged ${e.charged}, uncharged ${e.uncharged}${e.freed ? ' (freed)' : ''}${verdict}`;
  });
}
