// Human-readable tables of observations, in the `ss -m` vocabulary (skmem:(r,rb,t,tb,f,w,o,bl,d)).
import type { Notification, Observation, StateFields, StepObservation, StepResult } from '../scenario/observation.ts';

export function describeOp(op: Record<string, unknown>): string {
  const [name, args] = Object.entries(op)[0] ?? ['?', {}];
  if (name === 'expect') return 'expect';
  if (args === null || typeof args !== 'object' || Object.keys(args).length === 0) return name;
  const parts = Object.entries(args as Record<string, unknown>).map(([k, v]) => {
    if (k === 'zerocopy' && v === true) return 'zc';
    if (k === 'len') return String(v);
    if (Array.isArray(v)) return `${k}=[${v.join(',')}]`;
    if (v === true) return k;
    return `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
  });
  return `${name} ${parts.join(' ')}`;
}

export function describeResult(r: StepResult): string {
  if ('ret' in r) return String(r.ret);
  if ('calls' in r) return `${r.calls} calls, ${r.accepted_bytes} B${'errno' in r && r.errno ? `, then ${r.errno}` : ''}`;
  if ('errno' in r) return r.errno;
  if ('notifications' in r) return `${r.notifications} read`;
  return '';
}

export function describeNotifications(n: Notification[]): string {
  return n.map((x) => `[${x.lo}..${x.hi}]${x.code === 1 ? ' COPIED' : ''}`).join(' ');
}

const COLUMNS = ['#', 'op', 'result', 'f', 'w', 'o', 'tb', 't', 'memcg', 'skbs', 'unsent', 'outq', 'notifications'] as const;

function row(i: string, op: string, result: string, s: StateFields, notes: string): string[] {
  const m = s.meminfo;
  const nul = (v: number | null) => (v === null ? '-' : String(v));
  return [i, op, result, String(m.fwd_alloc), String(m.wmem_queued), String(m.optmem), String(m.sndbuf), String(m.wmem_alloc), nul(s.memcg_sock_bytes), nul(s.skbs), String(s.unsent), String(s.outq), notes];
}

export function renderTable(rows: string[][], header: readonly string[] = COLUMNS): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: readonly string[]) => r.map((cell, c) => (c <= 2 || c === r.length - 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

export function observationTable(obs: Observation): string {
  const rows: string[][] = [];
  rows.push(row('-', 'setup', '', { meminfo: obs.setup.sender, memcg_sock_bytes: null, tcp_mem_pages: null, skbs: null, unsent: 0, outq: 0 }, ''));
  obs.steps.forEach((s: StepObservation, i) => {
    if ('expect' in s.op) {
      const fails = s.failures ?? [];
      const text = fails.length === 0 ? 'ok' : fails.map((f) => `${f.path}: expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.actual)}`).join('; ');
      rows.push([String(i), 'expect', fails.length === 0 ? 'ok' : 'FAILED', '', '', '', '', '', '', '', '', '', text]);
      return;
    }
    rows.push(row(String(i), describeOp(s.op), describeResult(s.result), s, describeNotifications(s.notifications)));
  });
  const trail = explainSection(obs);
  const head = `${obs.scenario}: ${obs.backend} backend, kernel ${obs.kernel.profile} (${obs.kernel.release}), config ${JSON.stringify(obs.kernel.config)}`;
  const legend = 'f=fwd_alloc w=wmem_queued o=optmem tb=sndbuf t=wmem_alloc (ss -m), memcg=memcg sock bytes';
  const warnings = obs.warnings.map((w) => `WARNING at step ${w.step}: ${w.check}: ${w.message}`);
  const unknown = Object.entries(obs.unknown ?? {}).map(([k, v]) => `unknown ${k}: ${v}`);
  return [head, legend, '', renderTable(rows), ...(warnings.length ? ['', ...warnings] : []), ...unknown, ...trail].join('\n');
}

/** The accounting trail of every step (run --explain): function, what and why, state after. */
function explainSection(obs: Observation): string[] {
  const out: string[] = [];
  obs.steps.forEach((s, i) => {
    if (s.explain === undefined || s.explain.length === 0) return;
    out.push('', `step ${i}: ${describeOp(s.op)}${describeResult(s.result) ? ` -> ${describeResult(s.result)}` : ''}`);
    for (const e of s.explain) out.push(`  ${e.fn}: ${e.what}  [f ${e.fwd_alloc}, w ${e.wmem_queued}]`);
  });
  return out;
}

export function failedExpectations(obs: Observation): number {
  return obs.steps.reduce((n, s) => n + (s.failures?.length ?? 0), 0);
}
