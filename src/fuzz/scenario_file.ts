// Writes a fuzzed counterexample as a scenario file (../shared/spec/scenario-format.md) that
// `skmem run FILE --check` replays to the same warning: only what differs from the format's
// defaults, one step per line in flow style, with notes on the teardown and on the step where
// the rule fired.
import type { Scenario, Step } from '../scenario/schema.ts';

const PLAIN_KEY = /^[a-z_][a-z0-9_.]*$/i;

/** A YAML flow-style rendering of plain data (maps, lists, numbers, booleans, strings). */
export function flow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    return `{ ${entries.map(([k, x]) => `${PLAIN_KEY.test(k) ? k : JSON.stringify(k)}: ${flow(x)}`).join(', ')} }`;
  }
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export interface FileMeta {
  description: string;
  /** Extra header comment lines (seed, replay command). */
  header: string[];
  /** Notes to put on steps, by index (appended to a step's own note). */
  notes: Record<number, string>;
}

export function scenarioYaml(sc: Scenario, meta: FileMeta): string {
  const lines = meta.header.map((h) => `# ${h}`);
  lines.push(`name: ${sc.name}`, `description: ${JSON.stringify(meta.description)}`, `kernel: ${JSON.stringify(sc.kernel)}`);
  if (Object.keys(sc.config).length > 0) lines.push(`config: ${flow(sc.config)}`);
  if (Object.keys(sc.sysctl).length > 0) lines.push(`sysctl: ${flow(sc.sysctl)}`);
  const conn: Record<string, unknown> = {};
  if (sc.connection.family !== 'ipv4') conn.family = sc.connection.family;
  if (sc.connection.start !== 'fresh') conn.start = sc.connection.start;
  if (Object.keys(conn).length > 0) lines.push(`connection: ${flow(conn)}`);
  const sender = Object.fromEntries(Object.entries(sc.sender).filter(([, v]) => v !== undefined));
  if (Object.keys(sender).length > 0) lines.push(`sender: ${flow(sender)}`);
  lines.push('steps:');
  sc.steps.forEach((step, i) => lines.push(...stepLines(step, meta.notes[i])));
  return `${lines.join('\n')}\n`;
}

function stepLines(step: Step, extra: string | undefined): string[] {
  const { note, ...op } = step as Step & { note?: string };
  const [name, args] = Object.entries(op)[0];
  const out = [`  - ${name}: ${flow(args ?? {})}`];
  const text = [note, extra].filter(Boolean).join('; ');
  if (text) out.push(`    note: ${JSON.stringify(text)}`);
  return out;
}
