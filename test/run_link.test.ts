// `connection.path: link` run step by step on the model (src/paths/link_steps.ts): a send leaves
// its data in flight, sleep lets the engine deliver ACKs, drain completes every zerocopy range
// with ee_code 0 (a real NIC sends the user pages), runs are deterministic (seeded loss only),
// and the live backend refuses the path.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/backends/index.ts';
import { runModel } from '../src/backends/model/run.ts';
import { PROFILE_NAMES } from '../src/profiles/index.ts';
import { parseScenarioText } from '../src/scenario/parse.ts';

const scenario = (steps: string, connection = '{ path: link, route: { rto_min_ms: 200 } }', kernel = '6.18') =>
  parseScenarioText(`name: link_steps\nkernel: "${kernel}"\nconnection: ${connection}\nsender: { so_zerocopy: true }\nsteps:\n${steps}`, 'link.yaml');

const ZC_SEND = '  - send: { len: 14480, zerocopy: true }\n';

describe('path link in the step runner', () => {
  it('a send returns with its data in flight: transmitted, unacknowledged, clones in the NIC', () => {
    const obs = runModel(scenario(ZC_SEND));
    const s = obs.steps[0];
    expect(s.result).toEqual({ ret: 14480 });
    expect(s.outq).toBe(14480);
    expect(s.unsent).toBe(0);
    expect(s.meminfo.wmem_alloc).toBeGreaterThan(0);
    expect(s.meminfo.wmem_queued).toBeGreaterThan(14480);
  });

  it('sleep runs the engine: NIC completions, propagation, ACKs free the queue', () => {
    const obs = runModel(scenario(`${ZC_SEND}  - sleep: { ms: 1 }\n  - errqueue: {}\n`));
    const s = obs.steps[1];
    expect(s.outq).toBe(0);
    expect(s.skbs).toBe(0);
    expect(s.meminfo.wmem_alloc).toBe(0);
    expect(s.meminfo.wmem_queued).toBe(0);
    expect(obs.steps[2].notifications).toEqual([{ lo: 0, hi: 0, code: 0 }]);
  });

  it('drain completes every zerocopy range with ee_code 0 on every profile', () => {
    for (const k of PROFILE_NAMES) {
      const obs = runModel(scenario(`${ZC_SEND}  - send: { len: 100000, zerocopy: true }\n  - drain: {}\n`), { kernel: k });
      const d = obs.steps[2];
      expect(d.outq, k).toBe(0);
      expect(d.meminfo.wmem_queued, k).toBe(0);
      expect(d.meminfo.optmem, k).toBe(0);
      expect(d.notifications.map((n) => n.code), k).toEqual(d.notifications.map(() => 0));
      expect(Math.max(...d.notifications.map((n) => n.hi)), k).toBe(1);
      expect(obs.warnings, k).toEqual([]);
    }
  });

  it('once the receiver leaves quick-ACK mode a small send waits for the delayed ACK ; recv reads', () => {
    const small = '  - send: { len: 100, zerocopy: true }\n  - sleep: { ms: 1 }\n'.repeat(20);
    const obs = runModel(scenario(`${small}  - sleep: { ms: 200 }\n  - recv: { bytes: 2000 }\n  - errqueue: {}\n`));
    const held = obs.steps.findIndex((s, i) => i % 2 === 1 && i < 40 && s.outq > 0);
    expect(held).toBeGreaterThan(1); // the first ACKs are quick ACKs
    expect(obs.steps[held].meminfo.wmem_queued).toBeGreaterThan(0);
    expect(obs.steps[40].outq).toBe(0); // delayed ACKs (40 ms each) let everything through
    expect(obs.steps[41].result).toEqual({ ret: 2000 });
    expect(obs.steps[42].notifications.every((n) => n.code === 0)).toBe(true);
  });

  it('is deterministic, loss included (seeded)', () => {
    const sc = scenario(`  - send: { len: 200000, zerocopy: true, blocking: true }\n  - drain: {}\n`, '{ path: link, link: { loss: 0.01, seed: 7 }, route: { initcwnd: 10, rto_min_ms: 200 } }');
    const a = runModel(sc);
    const b = runModel(sc);
    expect(a).toEqual(b);
    expect(a.steps[1].outq).toBe(0);
  });

  it('disconnect drops what is in flight; close waits for the FIN to be acknowledged', () => {
    const d = runModel(scenario(`${ZC_SEND}  - disconnect: {}\n  - sleep: { ms: 10 }\n  - errqueue: {}\n`));
    expect(d.steps[1].meminfo.wmem_queued).toBe(0);
    expect(d.steps[3].notifications).toEqual([{ lo: 0, hi: 0, code: 0 }]);
    const c = runModel(scenario(`${ZC_SEND}  - close: {}\n  - sleep: { ms: 100 }\n`));
    expect(c.steps[1].outq).toBeGreaterThan(0);
    expect(c.steps[2].meminfo).toMatchObject({ wmem_queued: 0, fwd_alloc: 0 });
    expect(c.warnings).toEqual([]);
  });

  it('the live backend refuses path link; the model runs it', async () => {
    const sc = scenario(ZC_SEND);
    await expect(runScenario(sc, { backend: 'live' })).rejects.toThrow(/link runs on the model only/);
    await expect(runScenario(sc, { backend: 'model' })).resolves.toMatchObject({ backend: 'model' });
  });

  it('refuses loopback-only starts with a usage error', () => {
    expect(() => runModel(scenario(ZC_SEND, '{ path: link, start: zero_window }'))).toThrow(/loopback start/);
  });
});
