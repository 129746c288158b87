// The event engine and the link path: deterministic ordering, seeded randomness, and a
// msg_zerocopy run whose accounting moves with transmissions and ACKs.
import { describe, expect, it } from 'vitest';
import { EventQueue, Rng, Timer } from '../src/engine/queue.ts';
import { DEFAULT_LINK } from '../src/paths/link.ts';
import { DEFAULT_COSTS, runMsgZerocopy, type ZcOptions } from '../src/workloads/msg_zerocopy.ts';
import { SERIES_FIELDS } from '../src/workloads/series.ts';

const base: ZcOptions = {
  kernel: '6.18', family: 'ipv4', runtime_ms: 5, payload: 65435, zerocopy: true, notify_limit: 32, expect_zerocopy: -1,
  link: DEFAULT_LINK, cc: 'cubic', costs: DEFAULT_COSTS, sample_ns: 1000, series_points: 5000,
};

describe('event queue', () => {
  it('runs events in time order, ties in scheduling order', () => {
    const q = new EventQueue();
    const seen: string[] = [];
    q.at(30, () => seen.push('c'));
    q.at(10, () => seen.push('a1'));
    q.at(10, () => seen.push('a2'));
    q.at(20, () => {
      seen.push('b');
      q.after(0, () => seen.push('b+0'));
      q.at(5, () => seen.push('past->now'));
    });
    q.runUntil(100);
    expect(seen).toEqual(['a1', 'a2', 'b', 'b+0', 'past->now', 'c']);
    expect(q.now).toBe(100);
  });

  it('timer re-arming keeps one expiry (mod_timer) and fires once', () => {
    const q = new EventQueue();
    let fired: number[] = [];
    const t = new Timer(q, () => fired.push(q.now));
    t.set(100);
    t.set(50);
    t.set(200);
    q.runUntil(1000);
    expect(fired).toEqual([200]);
    fired = [];
    t.set(300 + 1000);
    t.clear();
    q.runUntil(5000);
    expect(fired).toEqual([]);
  });

  it('the seeded RNG repeats', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(new Set(xs).size).toBe(5);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('msg_zerocopy on the link path', () => {
  it('completions arrive with ee_code 0 (zerocopy) on a real NIC, one per send', () => {
    const r = runMsgZerocopy(base);
    expect(r.lastCode).toBe(0);
    expect(r.completions).toBe(r.expected_completions);
    expect(r.expected_completions).toBeGreaterThan(50);
    expect(r.txLine).toMatch(/^tx=\d+ \(\d+ MB\) txc=\d+ zc=n$/); // 6.x selftest without -Z prints n
    expect(r.rxLine).toMatch(/^rx=\d+ \(\d+ MB\)$/);
    // 5.17's selftest reports the last completion's code
    const r5 = runMsgZerocopy({ ...base, kernel: '5.17' });
    expect(r5.txLine).toMatch(/zc=y$/);
    // and -Z 1 on the 6.x selftest agrees
    expect(runMsgZerocopy({ ...base, expect_zerocopy: 1 }).txLine).toMatch(/zc=y$/);
  });

  it('charges rise with sends and fall with ACKs (6.18 memcg sock, 5.15 fwd/wq)', () => {
    for (const [kernel, field] of [['6.18', 'memcg_sock'], ['5.15', 'wmem_queued'], ['5.15', 'fwd_alloc']] as const) {
      const r = runMsgZerocopy({ ...base, kernel });
      const i = SERIES_FIELDS.indexOf(field);
      const v = r.series.map((b) => b.last[i]);
      let ups = 0;
      let downs = 0;
      for (let k = 1; k < v.length; k++) {
        if (v[k] > v[k - 1]) ups++;
        if (v[k] < v[k - 1]) downs++;
      }
      expect(ups, `${kernel} ${field} rises`).toBeGreaterThan(20);
      expect(downs, `${kernel} ${field} falls`).toBeGreaterThan(20);
    }
  });

  it('everything is freed and uncharged once the run is over', () => {
    for (const kernel of ['5.15', '5.16', '6.18']) {
      const r = runMsgZerocopy({ ...base, kernel });
      expect(r.final.wmem_queued).toBe(0);
      expect(r.final.optmem).toBe(0);
      if (kernel === '6.18') expect(r.final.memcg_sock).toBe(0); // 6.x reclaims on every uncharge
      else {
        // 5.x keeps the forward-allocated pages until the write timer's sk_mem_reclaim() (whose
        // expiry is the last loss probe's, which may still be pending when the sender is done):
        // all the memcg holds is whole pages of fwd, nothing queued
        expect(r.final.memcg_sock).toBe(r.final.fwd_alloc);
        expect(r.final.fwd_alloc % 4096).toBe(0);
      }
    }
  });

  it('is deterministic: the same inputs give the same output', () => {
    const strip = (r: ReturnType<typeof runMsgZerocopy>) => JSON.stringify({ ...r, wall_ms: 0 });
    expect(strip(runMsgZerocopy({ ...base, kernel: '5.15' }))).toBe(strip(runMsgZerocopy({ ...base, kernel: '5.15' })));
    const lossy = { ...base, link: { ...DEFAULT_LINK, loss: 1e-4, seed: 3 } };
    const a = runMsgZerocopy(lossy);
    expect(a.flowStats.lostSegs).toBeGreaterThan(0);
    expect(a.flowStats.retransSegs).toBeGreaterThan(0);
    expect(a.completions).toBe(a.expected_completions);
    expect(strip(a)).toBe(strip(runMsgZerocopy(lossy)));
  });
});
