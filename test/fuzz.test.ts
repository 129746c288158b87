// skmem fuzz (src/fuzz): fixed-seed searches that find each historical bug with a short,
// replayable counterexample, and CI-sized clean runs on the correct profiles. The 60-second,
// fresh-seed searches and the 1,000,000-step clean runs are in docs/fuzzing.md (not CI).
import { describe, expect, it } from 'vitest';
import { OP_KINDS, type OpKind } from '../src/fuzz/ops.ts';
import { classifyCase } from '../src/fuzz/run_case.ts';
import { scenarioYaml } from '../src/fuzz/scenario_file.ts';
import { fuzz, type FuzzOptions } from '../src/fuzz/search.ts';
import { parseScenarioText } from '../src/scenario/parse.ts';

const without = (...drop: OpKind[]) => OP_KINDS.filter((k) => !drop.includes(k));
/** Every kind that can copy user data into the tail skb. */
const COPYING: OpKind[] = ['send_copy', 'send_iov', 'send_until_eagain', 'zerocopy_off'];

function search(o: Partial<FuzzOptions> & { kernel: string; seed: number }) {
  return fuzz({ runs: 5000, maxSteps: 30, timeLimitMs: null, ops: OP_KINDS, keepGoing: false, ...o });
}

/** The written file, read back and run, must give the same finding. */
function replays(f: ReturnType<typeof search>['failures'][number], kernel: string): string[] {
  const text = scenarioYaml({ ...f.scenario, name: 'replay' }, { description: 'test', header: [], notes: {} });
  return classifyCase(kernel, parseScenarioText(text, 'replay.yaml').scenario).signatures;
}

describe('the fuzzer finds the historical bugs (fixed seeds)', () => {
  const bugs: { title: string; kernel: string; seed: number; ops: readonly OpKind[]; signature: string; kernelCheck: RegExp }[] = [
    { title: '5.16-v1: the reverted version (skb_try_coalesce truesize WARN)', kernel: '5.16-v1', seed: 1, ops: OP_KINDS, signature: 'coalesce.truesize', kernelCheck: /skb_try_coalesce/ },
    { title: '5.16: the under-charging downgrade (479f5547239d)', kernel: '5.16', seed: 3, ops: without('sendfile'), signature: 'destruct.fwd_alloc[copy_onto_pure]', kernelCheck: /inet_sock_destruct/ },
    { title: '5.16: splice onto a pure skb (f8d9d938514f)', kernel: '5.16', seed: 2, ops: without(...COPYING), signature: 'destruct.fwd_alloc[splice_onto_pure]', kernelCheck: /inet_sock_destruct/ },
  ];
  for (const b of bugs) {
    it(b.title, () => {
      const r = search({ kernel: b.kernel, seed: b.seed, ops: b.ops });
      expect(r.failures.length).toBe(1);
      const f = r.failures[0];
      expect(f.result.signatures).toContain(b.signature);
      expect(f.result.violations[0].kernel).toBe(true);
      expect(f.result.violations[0].check).toMatch(b.kernelCheck);
      expect(f.found.runs).toBeLessThan(2000);
      expect(f.generatedSteps).toBeLessThanOrEqual(4); // shrunk: a handful of steps, plus close + drain
      expect(replays(f, b.kernel)).toEqual(f.result.signatures);
    });
  }

  it('5.16 with --keep-going finds both 5.16 bugs in one search', () => {
    const r = search({ kernel: '5.16', seed: 7, runs: 4000, keepGoing: true });
    const sigs = r.failures.flatMap((f) => f.result.signatures);
    expect(sigs).toContain('destruct.fwd_alloc[copy_onto_pure]');
    expect(sigs).toContain('destruct.fwd_alloc[splice_onto_pure]');
    expect(sigs.some((s) => s.startsWith('coalesce'))).toBe(false);
  });

  it('is deterministic for a seed', () => {
    const a = search({ kernel: '5.16', seed: 11, runs: 300 });
    const b = search({ kernel: '5.16', seed: 11, runs: 300 });
    const key = (r: typeof a) => ({ runs: r.runs, steps: r.steps, found: r.failures.map((f) => [f.found.runs, f.scenario.steps, f.result.signatures]) });
    expect(key(a)).toEqual(key(b));
  });
});

describe('the fuzzer finds nothing on the correct profiles (CI-sized, fixed seeds)', () => {
  for (const [kernel, seed] of [['5.15', 101], ['5.17', 102], ['6.18', 103]] as const) {
    it(`${kernel}: 10000 runs, checkers on, no failure`, () => {
      const r = search({ kernel, seed, runs: 10000 });
      const first = r.failures[0];
      expect(first ? `${first.result.signatures.join(', ')} in ${JSON.stringify(first.scenario.steps)}` : null).toBeNull();
      expect(r.runs).toBe(10000);
      expect(r.steps).toBeGreaterThan(100000);
    });
  }
});

describe('scenario files', () => {
  it('round-trip: what the fuzzer writes parses back to the scenario it ran', () => {
    const f = search({ kernel: '5.16', seed: 3, ops: without('sendfile') }).failures[0];
    const text = scenarioYaml({ ...f.scenario, name: 'round_trip' }, { description: 'd', header: ['h'], notes: { 1: 'here' } });
    const back = parseScenarioText(text, 'rt.yaml').scenario;
    const strip = (steps: unknown[]) => steps.map((s) => { const { note: _n, ...rest } = s as { note?: string }; return rest; });
    expect(strip(back.steps)).toEqual(strip(f.scenario.steps));
    expect(back.connection).toEqual(f.scenario.connection);
    expect(back.sysctl).toEqual(f.scenario.sysctl);
    expect(back.config).toEqual(f.scenario.config);
    expect(back.kernel).toBe('5.16');
  });
});
