// The checkers (src/checkers): silent on every validation-corpus scenario and every example
// under the correct profiles; read-only (a run gives the same observation with or without
// them); and each rule fires, with its values, when the state it guards is broken on purpose.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runModel } from '../src/backends/model/run.ts';
import { UsageError } from '../src/cli/errors.ts';
import { collectViolations, createCheckers, runChecked, type Checker, type ModelView } from '../src/checkers/index.ts';
import { TrailRecorder } from '../src/checkers/trail.ts';
import { withTracer } from '../src/model/trace.ts';
import { loadScenarioFile, parseScenarioText } from '../src/scenario/parse.ts';
import type { Step } from '../src/scenario/schema.ts';

const FILES = [
  ...readdirSync('corpus').filter((f) => f.endsWith('.yaml') && f !== 'known_gaps.yml').map((f) => `corpus/${f}`),
  ...readdirSync('examples').filter((f) => f.endsWith('.yaml')).map((f) => `examples/${f}`),
].sort();
const CORRECT = ['5.15', '5.17', '6.18'];

describe('checkers on the validation corpus and the examples', () => {
  for (const kernel of CORRECT) {
    it(`fire on none of ${FILES.length} files under ${kernel}`, () => {
      const fired: string[] = [];
      const refused: string[] = [];
      for (const file of FILES) {
        try {
          const { obs, violations } = runChecked(loadScenarioFile(file), { kernel });
          for (const v of violations) fired.push(`${file}: step ${v.step}: ${v.rule}: ${v.message}`);
          for (const w of obs.warnings) fired.push(`${file}: step ${w.step}: model WARNING ${w.check}`);
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          refused.push(`${file}: ${e.message}`); // a scenario this profile does not run (reported, not a check)
        }
      }
      if (refused.length > 0) console.warn(`checkers test, ${kernel}: ${refused.length} file(s) refused by the model:\n  ${refused.join('\n  ')}`);
      expect(fired).toEqual([]);
      expect(refused.length).toBeLessThan(FILES.length / 10);
    });
  }

  it('are read-only: every file gives the same observation with and without them (6.18 and 5.17)', () => {
    for (const kernel of ['6.18', '5.17']) {
      for (const file of FILES) {
        const loaded = loadScenarioFile(file);
        let plain: unknown;
        try {
          plain = runModel(loaded, { kernel });
        } catch (e) {
          if (e instanceof UsageError) continue;
          throw e;
        }
        const trail = new TrailRecorder();
        const checked = withTracer(trail.tracer, () => runModel(loaded, { kernel, checkers: [...createCheckers(), trail] }));
        expect(checked, `${file} under ${kernel}`).toEqual(plain);
      }
    }
  });
});

/** A test-only checker, first in the list: breaks the model's state after one step. */
function tamper(at: number, breakIt: (view: ModelView) => void): Checker {
  return {
    name: 'tamper', violations: [],
    afterStep(view: ModelView, index: number, _step: Step | null) {
      if (index === at) breakIt(view);
    },
  };
}

const ZC_QUEUED = parseScenarioText(`
name: zc_queued
kernel: "5.17"
connection: { start: zero_window }
sender: { so_zerocopy: true }
steps:
  - send: { len: 5000, zerocopy: true }
  - send: { len: 100 }
  - drain: {}
  - errqueue: {}
`);

function violationsWith(breakIt: (view: ModelView) => void, at = 0) {
  const checkers = createCheckers();
  runModel(ZC_QUEUED, { checkers: [tamper(at, breakIt), ...checkers] });
  return collectViolations(checkers);
}

describe('each rule fires when its state is broken', () => {
  it('the untouched scenario is clean', () => {
    expect(violationsWith(() => {})).toEqual([]);
  });

  const cases: [string, (v: ModelView) => void, Record<string, number>][] = [
    ['identity.wmem_queued', (v) => (v.sk.sk_wmem_queued += 1), {}],
    ['identity.forward_alloc', (v) => (v.sk.sk_forward_alloc -= 7), {}],
    ['identity.socket_pages', (v) => (v.sk.mem_pages += 1), {}],
    ['identity.tcp_memory_allocated', (v) => (v.net.proto.memory_allocated += 3), { memory_allocated: 3 + 1 }],
    ['identity.memcg_sock', (v) => (v.net.memcg!.sock_pages += 2), {}],
    ['identity.optmem', (v) => (v.sk.sk_omem_alloc += 768), { N: 768, live_ubuf_infos: 1 }],
    ['identity.ubuf_refcnt', (v) => (v.sk.write_queue[0].uarg!.refcnt += 1), { refcnt: 2, skbs: 1 }],
    ['identity.sk_zckey', (v) => (v.sk.sk_zckey += 1), { sk_zckey: 2, zc_calls: 1 }],
  ];
  for (const [rule, breakIt, values] of cases) {
    it(`${rule}`, () => {
      const found = violationsWith(breakIt);
      expect(found.map((v) => v.rule)).toContain(rule);
      const v = found.find((x) => x.rule === rule)!;
      expect(v.step).toBe(0);
      expect(v.kernel).toBe(false);
      expect(v.values).toMatchObject(values);
    });
  }

  it('identity.notification_ranges: overlapping error-queue entries', () => {
    const found = violationsWith((v) => {
      v.sk.error_queue.push({ lo: 0, hi: 0, code: 1, truesize: 768 }, { lo: 0, hi: 0, code: 1, truesize: 768 });
      v.sk.sk_omem_alloc += 2 * 768;
    }, 2);
    expect(found.map((v) => v.rule)).toEqual(['identity.notification_ranges']);
  });

  it('destruct.fwd_alloc: a residue left at destruction (5.x names both functions)', () => {
    const sc = parseScenarioText('name: d\nkernel: "5.17"\nsteps:\n  - send: { len: 10 }\n  - close: {}\n  - drain: {}\n');
    const checkers = createCheckers();
    runModel(sc, { checkers: [tamper(0, (v) => { v.sk.sk_forward_alloc += 5; v.sk.ledger.uncharged += 5; }), ...checkers] });
    const found = collectViolations(checkers);
    expect(found.map((v) => v.rule)).toEqual(['destruct.fwd_alloc']);
    expect(found[0].kernel).toBe(true);
    expect(found[0].values.fwd_alloc).toBe(5);
    expect(found[0].check).toContain('sk_stream_kill_queues');
    expect(found[0].check).toContain('inet_sock_destruct');
  });

  it('coalesce.truesize: 5.16-v1 under-reports the head of every skb (ref. §5.2)', () => {
    const sc = parseScenarioText('name: c\nsteps:\n  - send: { len: 1 }\n  - send: { len: 1 }\n');
    const on = (kernel: string) => runChecked(sc, { kernel }).violations;
    const [v] = on('5.16-v1');
    expect(v).toMatchObject({ rule: 'coalesce.truesize', step: 1, kernel: true, values: { truesize: 897, end_offset: 704, head_truesize: 1280, delta: -383, len: 1 } });
    for (const k of ['5.15', '5.16', '5.17', '6.18']) expect(on(k)).toEqual([]);
  });
});
