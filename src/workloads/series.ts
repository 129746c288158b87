// Time series of a running experiment: a sampler on the event queue reads the counters every
// `interval` ns (simulated), keeps streaming statistics (mean, p50, p99, max) and a bounded,
// bucketed series (min / max / last per bucket) for plots, JSON and CSV. Memory is bounded by
// the number of buckets, not by the run length.
import type { EventQueue } from '../engine/queue.ts';

export const SERIES_FIELDS = ['memcg_sock', 'fwd_alloc', 'wmem_queued', 'tcp_mem_pages', 'sndbuf', 'pressure'] as const;
export type SeriesField = (typeof SERIES_FIELDS)[number];
const PRESSURE = SERIES_FIELDS.indexOf('pressure');
const FIELDS = SERIES_FIELDS.length;

export interface Stat {
  mean: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
}

/**
 * Streaming statistics of integer-valued samples: exact percentiles from a value histogram.
 * Repeats of the last value are counted apart and enter the histogram when the value changes
 * (most counters hold still for many samples), which keeps one Map update per change.
 */
export class StreamStat {
  private n = 0;
  private sum = 0;
  private maxV = -Infinity;
  private minV = Infinity;
  private readonly hist = new Map<number, number>();
  private runV = 0;
  private runN = 0;

  add(v: number): void {
    this.n++;
    this.sum += v;
    if (v === this.runV && this.runN > 0) {
      this.runN++;
      return;
    }
    if (v > this.maxV) this.maxV = v;
    if (v < this.minV) this.minV = v;
    this.flush();
    this.runV = v;
    this.runN = 1;
  }

  private flush(): void {
    if (this.runN > 0) this.hist.set(this.runV, (this.hist.get(this.runV) ?? 0) + this.runN);
    this.runN = 0;
  }

  get count(): number {
    return this.n;
  }

  result(): Stat {
    this.flush();
    if (this.n === 0) return { mean: 0, p50: 0, p99: 0, max: 0, min: 0 };
    const keys = [...this.hist.keys()].sort((a, b) => a - b);
    const pct = (p: number): number => {
      const rank = Math.ceil(p * this.n);
      let acc = 0;
      for (const k of keys) {
        acc += this.hist.get(k)!;
        if (acc >= rank) return k;
      }
      return keys[keys.length - 1];
    };
    return { mean: this.sum / this.n, p50: pct(0.5), p99: pct(0.99), max: this.maxV, min: this.minV };
  }
}

/** One bucket of the plotted series. */
export interface Bucket {
  t_ns: number;
  min: number[];
  max: number[];
  last: number[];
}

export type Probe = () => readonly number[];

/** Samples `probe` (values in SERIES_FIELDS order) every `interval` ns from `start` to `end`. */
export class Sampler {
  readonly stats: StreamStat[] = SERIES_FIELDS.map(() => new StreamStat());
  /** Per bucket b and field i, at b * SERIES_FIELDS.length + i. */
  private readonly bmin: Float64Array;
  private readonly bmax: Float64Array;
  private readonly blast: Float64Array;
  private readonly bseen: Uint8Array;
  private readonly bucketNs: number;
  samples = 0;
  pressureNs = 0;

  constructor(
    private readonly q: EventQueue,
    private readonly probe: Probe,
    readonly interval: number,
    readonly start: number,
    readonly end: number,
    readonly buckets: number,
  ) {
    const f = SERIES_FIELDS.length;
    this.bmin = new Float64Array(f * buckets);
    this.bmax = new Float64Array(f * buckets);
    this.blast = new Float64Array(f * buckets);
    this.bseen = new Uint8Array(buckets);
    this.bucketNs = Math.max(1, (end - start) / buckets);
    q.at(start, this.tick);
  }

  private readonly tick = (): void => {
    const now = this.q.now;
    if (now > this.end) return;
    const v = this.probe();
    const b = Math.min(this.buckets - 1, Math.floor((now - this.start) / this.bucketNs));
    const first = this.bseen[b] === 0;
    this.bseen[b] = 1;
    const { bmin, bmax, blast, stats } = this;
    const base = b * FIELDS;
    for (let i = 0; i < FIELDS; i++) {
      const x = v[i];
      const k = base + i;
      stats[i].add(x);
      if (first || x < bmin[k]) bmin[k] = x;
      if (first || x > bmax[k]) bmax[k] = x;
      blast[k] = x;
    }
    if (v[PRESSURE] !== 0) this.pressureNs += this.interval;
    this.samples++;
    this.q.at(now + this.interval, this.tick);
  };

  stat(field: SeriesField): Stat {
    return this.stats[SERIES_FIELDS.indexOf(field)].result();
  }

  series(): Bucket[] {
    const out: Bucket[] = [];
    for (let b = 0; b < this.buckets; b++) {
      if (this.bseen[b] === 0) continue;
      out.push({
        t_ns: Math.round(this.start + b * this.bucketNs),
        min: SERIES_FIELDS.map((_, i) => this.bmin[b * FIELDS + i]),
        max: SERIES_FIELDS.map((_, i) => this.bmax[b * FIELDS + i]),
        last: SERIES_FIELDS.map((_, i) => this.blast[b * FIELDS + i]),
      });
    }
    return out;
  }
}

/** CSV of a bucketed series: one row per bucket, min/max/last of every field. */
export function seriesCsv(series: Bucket[], label: string): string {
  const cols = ['label', 't_us', ...SERIES_FIELDS.flatMap((f) => [`${f}_min`, `${f}_max`, `${f}_last`])];
  const rows = series.map((b) => [label, (b.t_ns / 1000).toFixed(3), ...SERIES_FIELDS.flatMap((_, i) => [b.min[i], b.max[i], b.last[i]].map(String))].join(','));
  return [cols.join(','), ...rows].join('\n');
}
