// The observation contract (../shared/spec/scenario-format.md): every example, under every
// profile, yields the contract's fields with the right types; `run --json` prints it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runModel } from '../src/backends/model/run.ts';
import { PROFILE_NAMES } from '../src/profiles/index.ts';
import { MEMINFO_FIELDS, type Observation, type StateFields } from '../src/scenario/observation.ts';
import { loadScenarioFile } from '../src/scenario/parse.ts';

const examples = readdirSync('examples').filter((f) => f.endsWith('.yaml'));

function checkState(s: StateFields, where: string): void {
  for (const f of MEMINFO_FIELDS) expect(Number.isInteger(s.meminfo[f]), `${where} meminfo.${f}`).toBe(true);
  for (const f of ['memcg_sock_bytes', 'tcp_mem_pages', 'skbs'] as const) {
    expect(s[f] === null || Number.isInteger(s[f]), `${where} ${f}`).toBe(true);
  }
  expect(Number.isInteger(s.unsent) && Number.isInteger(s.outq), `${where} unsent/outq`).toBe(true);
}

export function checkContract(o: Observation, steps: number): void {
  expect(Object.keys(o).sort()).toEqual(['backend', 'final', 'kernel', 'scenario', 'setup', 'steps', 'warnings']);
  expect(o.backend).toBe('model');
  expect(typeof o.kernel.profile).toBe('string');
  expect(typeof o.kernel.config.max_tcp_header).toBe('number');
  expect(o.steps).toHaveLength(steps);
  o.steps.forEach((s, i) => {
    expect(Object.keys(s.op)).toHaveLength(1);
    expect(typeof s.result).toBe('object');
    checkState(s, `step ${i}`);
    for (const n of s.notifications) expect(Object.keys(n).sort()).toEqual(['code', 'hi', 'lo']);
  });
  checkState(o.final, 'final');
}

describe('observation contract', () => {
  it(`covers ${examples.length} examples x ${PROFILE_NAMES.length} profiles`, () => {
    for (const f of examples) {
      const loaded = loadScenarioFile(`examples/${f}`);
      for (const k of PROFILE_NAMES) checkContract(runModel(loaded, { kernel: k }), loaded.scenario.steps.length);
    }
  });
  it('skmem run --json prints the same observation as the API', () => {
    const f = `examples/${examples[0]}`;
    const r = spawnSync(process.execPath, ['bin/skmem.js', 'run', f, '--json', '--kernel', '5.15'], { encoding: 'utf8' });
    const o = JSON.parse(r.stdout) as Observation;
    expect(o).toEqual(runModel(loadScenarioFile(f), { kernel: '5.15' }));
  });
  it('is deterministic: the same inputs give the same bytes', () => {
    const loaded = loadScenarioFile(`examples/${examples[1]}`);
    expect(JSON.stringify(runModel(loaded))).toBe(JSON.stringify(runModel(loaded)));
  });
});
