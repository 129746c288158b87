// The fuzzer's shrunk counterexamples for the three historical bugs (examples/regressions/),
// replayed with every checker on under every profile: each kernel WARN fires exactly on the
// profiles that carry the bug, at the step the file says, and nothing fires anywhere else.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyCase } from '../src/fuzz/run_case.ts';
import { PROFILE_NAMES } from '../src/profiles/index.ts';
import { loadScenarioFile } from '../src/scenario/parse.ts';

const DIR = 'examples/regressions';

/** file -> the signature that must fire, the step it fires at, and the profiles with the bug. */
const CASES: Record<string, { signature: string; step: number; buggy: string[] }> = {
  // 5.16-v1 forced truesize 896 on 1280-byte heads: the reason for the revert (84882cf72cd7)
  revert_84882cf72cd7_coalesce_truesize: { signature: 'coalesce.truesize', step: 1, buggy: ['5.16-v1'] },
  // the downgrade charged data_len (5.16-v1 and 5.16), fixed by 479f5547239d in 5.17
  fix_479f5547239d_downgrade_undercharge: { signature: 'destruct.fwd_alloc[copy_onto_pure]', step: 3, buggy: ['5.16-v1', '5.16'] },
  // sendpage kept a pure skb pure (5.16-v1 and 5.16), fixed by f8d9d938514f in 5.17
  fix_f8d9d938514f_splice_onto_pure: { signature: 'destruct.fwd_alloc[splice_onto_pure]', step: 3, buggy: ['5.16-v1', '5.16'] },
};

describe('regression scenarios (examples/regressions)', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

  it('holds exactly the listed counterexamples, each named after its file', () => {
    expect(files.map((f) => f.replace(/\.yaml$/, ''))).toEqual(Object.keys(CASES).sort());
    for (const f of files) expect(loadScenarioFile(join(DIR, f)).scenario.name).toBe(f.replace(/\.yaml$/, ''));
  });

  for (const [name, want] of Object.entries(CASES)) {
    for (const kernel of PROFILE_NAMES) {
      const buggy = want.buggy.includes(kernel);
      it(`${name} on ${kernel}: ${buggy ? `${want.signature} fires at step ${want.step}` : 'nothing fires'}`, () => {
        const sc = loadScenarioFile(join(DIR, `${name}.yaml`)).scenario;
        const r = classifyCase(kernel, sc);
        expect(r.error).toBeNull();
        expect(r.rejected).toBeNull();
        if (!buggy) {
          expect(r.violations).toEqual([]);
          expect(r.warnings).toEqual([]);
          return;
        }
        expect(r.signatures).toContain(want.signature);
        const v = r.violations.find((x) => want.signature.startsWith(x.rule));
        expect(v?.kernel).toBe(true);
        expect(v?.step).toBe(want.step);
        // only kernel WARNs fire: the accounting identities hold even in the buggy profiles
        expect(r.violations.filter((x) => !x.kernel)).toEqual([]);
      });
    }
  }
});
