// Reads a scenario file (YAML or JSON) and validates it against the contract, turning every
// problem into one UsageError that names file:line:column, the key and what was expected.
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { UsageError } from '../cli/errors.ts';
import { OPS, scenario, type Scenario } from './schema.ts';

export interface LoadedScenario {
  scenario: Scenario;
  file: string;
  /** 1-based source line of each step, for messages about a step. */
  stepLines: number[];
}

export function loadScenarioFile(file: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read scenario file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseScenarioText(text, file);
}

export function parseScenarioText(text: string, file = '<scenario>'): LoadedScenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = lines.linePos(err.pos[0]);
    throw new UsageError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${err.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError(`${file}:1:1: expected a mapping with name, connection, sender and steps`);
  }
  checkStepOps(raw as Record<string, unknown>, doc, lines, file);
  const parsed = scenario.safeParse(raw);
  if (!parsed.success) throw issueToError(parsed.error.issues, doc, lines, file);
  const stepsNode = doc.get('steps', true);
  const stepLines = isSeq(stepsNode)
    ? stepsNode.items.map((n) => lineOf(n as Node, lines))
    : parsed.data.steps.map(() => 1);
  return { scenario: parsed.data, file, stepLines };
}

/** A step must hold exactly one known op key; zod's union message would not say which. */
function checkStepOps(raw: Record<string, unknown>, doc: Document, lines: LineCounter, file: string): void {
  if (!Array.isArray(raw.steps)) return;
  raw.steps.forEach((s: unknown, i: number) => {
    const at = (path: (string | number)[], key?: boolean) => {
      const node = key ? findKeyNode(doc, path) : findNode(doc, path);
      const pos = node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
      return `${file}:${pos.line}:${pos.col}: ${formatPath(path)}`;
    };
    if (s === null || typeof s !== 'object' || Array.isArray(s)) {
      throw new UsageError(`${at(['steps', i])}: expected a step mapping with one op key (${OPS.join(', ')})`);
    }
    const keys = Object.keys(s).filter((k) => k !== 'note');
    const unknown = keys.find((k) => !(OPS as readonly string[]).includes(k));
    if (unknown !== undefined) {
      throw new UsageError(`${at(['steps', i, unknown], true)}: unknown op "${unknown}" (expected one of ${OPS.join(', ')})`);
    }
    if (keys.length !== 1) {
      throw new UsageError(`${at(['steps', i])}: expected exactly one op key per step, found ${keys.length} (${keys.join(', ') || 'none'})`);
    }
  });
}

function lineOf(node: Node | undefined, lines: LineCounter): number {
  return node?.range ? lines.linePos(node.range[0]).line : 1;
}

/** Picks the most specific issue (deepest path) and locates it in the source. */
function issueToError(issues: z.core.$ZodIssue[], doc: Document, lines: LineCounter, file: string): UsageError {
  const issue = pickIssue(issues);
  let path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  let message = issue.message;
  let keyNode: Node | undefined;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    path = [...path, key];
    keyNode = findKeyNode(doc, path);
    message = `unknown key "${key}"${expectedKeysHint(issue.path, doc)}`;
  }
  const node = keyNode ?? findNode(doc, path);
  const pos = node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
  const where = path.length > 0 ? formatPath(path) : '(top level)';
  return new UsageError(`${file}:${pos.line}:${pos.col}: ${where}: ${message}`);
}

/** Union errors hide the real problem inside `errors`; prefer the deepest concrete issue. */
function pickIssue(issues: z.core.$ZodIssue[]): z.core.$ZodIssue {
  let best = issues[0];
  for (const issue of issues) {
    const candidate = issue.code === 'invalid_union' ? deepestInUnion(issue) : issue;
    if (candidate.path.length > best.path.length) best = candidate;
  }
  return best.code === 'invalid_union' ? deepestInUnion(best) : best;
}

function deepestInUnion(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue {
  // The branch whose op key matches the step is the one with an issue deeper than the step.
  let best: z.core.$ZodIssue = issue;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const full = { ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue;
      const deep = full.code === 'invalid_union' ? deepestInUnion(full) : full;
      const ok = !(deep.code === 'unrecognized_keys' && deep.path.length === issue.path.length);
      if (ok && deep.path.length > best.path.length) best = deep;
    }
  }
  return best;
}

function expectedKeysHint(path: PropertyKey[], doc: Document): string {
  const last = path[path.length - 1];
  if (path.length === 0) return ' (expected name, description, kernel, config, sysctl, connection, sender, steps)';
  if (path.length === 2 && path[0] === 'steps') {
    return ' (a step has exactly one op key: send, send_until_eagain, setsockopt, recv, drain, errqueue, close, disconnect, sleep, expect; plus note)';
  }
  void doc;
  return typeof last === 'string' ? ` under ${last}` : '';
}

function findNode(doc: Document, path: (string | number)[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
    if (node && (isScalar(node) || isMap(node) || isSeq(node))) return node;
  }
  return undefined;
}

function findKeyNode(doc: Document, path: (string | number)[]): Node | undefined {
  const parent = path.length === 1 ? doc.contents : (doc.getIn(path.slice(0, -1), true) as Node | undefined);
  if (!isMap(parent)) return undefined;
  const key = path[path.length - 1];
  for (const pair of parent.items) {
    if (isPair(pair) && isScalar(pair.key) && pair.key.value === key) return pair.key as Node;
  }
  return undefined;
}

export function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
