// A self-contained HTML report: inline SVG line charts (no scripts, no CDN), one chart per
// quantity, one line per run, with the per-bucket min..max band drawn behind the last value.
import { SERIES_FIELDS, type Bucket, type SeriesField } from '../workloads/series.ts';

export interface ChartRun {
  label: string;
  series: Bucket[];
}

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmtBytes(v: number): string {
  const a = Math.abs(v);
  if (a >= 1 << 20) return `${(v / (1 << 20)).toFixed(a >= 10 << 20 ? 0 : 1)} MiB`;
  if (a >= 1024) return `${(v / 1024).toFixed(a >= 10240 ? 0 : 1)} KiB`;
  return `${v} B`;
}

/** One SVG chart of `field` over time for every run. */
export function svgChart(runs: ChartRun[], field: SeriesField, title: string, unit: 'bytes' | 'pages' = 'bytes'): string {
  const W = 860;
  const H = 300;
  const L = 80;
  const R = 20;
  const T = 30;
  const B = 40;
  const fi = SERIES_FIELDS.indexOf(field);
  let tMax = 0;
  let vMax = 0;
  let vMin = 0;
  for (const r of runs)
    for (const b of r.series) {
      tMax = Math.max(tMax, b.t_ns);
      vMax = Math.max(vMax, b.max[fi]);
      vMin = Math.min(vMin, b.min[fi]);
    }
  if (vMax === vMin) vMax = vMin + 1;
  const x = (t: number) => L + ((W - L - R) * t) / Math.max(1, tMax);
  const y = (v: number) => T + (H - T - B) * (1 - (v - vMin) / (vMax - vMin));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="${L}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`);
  // axes and grid
  for (let i = 0; i <= 4; i++) {
    const v = vMin + ((vMax - vMin) * i) / 4;
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${esc(unit === 'bytes' ? fmtBytes(Math.round(v)) : String(Math.round(v)))}</text>`);
    const t = (tMax * i) / 4;
    const xx = x(t).toFixed(1);
    parts.push(`<text x="${xx}" y="${H - B + 16}" text-anchor="middle">${(t / 1e6).toFixed(1)} ms</text>`);
  }
  parts.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#444"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#444"/>`);
  runs.forEach((r, k) => {
    const c = COLORS[k % COLORS.length];
    if (r.series.length === 0) return;
    const up = r.series.map((b) => `${x(b.t_ns).toFixed(1)},${y(b.max[fi]).toFixed(1)}`);
    const down = r.series.map((b) => `${x(b.t_ns).toFixed(1)},${y(b.min[fi]).toFixed(1)}`).reverse();
    parts.push(`<polygon points="${[...up, ...down].join(' ')}" fill="${c}" fill-opacity="0.15" stroke="none"/>`);
    const line = r.series.map((b) => `${x(b.t_ns).toFixed(1)},${y(b.last[fi]).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${line}" fill="none" stroke="${c}" stroke-width="1.5"/>`);
    parts.push(`<rect x="${W - R - 150}" y="${T + 4 + 16 * k}" width="10" height="10" fill="${c}"/><text x="${W - R - 135}" y="${T + 13 + 16 * k}">${esc(r.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The whole page: a title, free HTML sections (tables, notes) and charts. */
export function htmlPage(title: string, sections: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}pre{background:#f6f6f6;padding:1em;overflow-x:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f0f0f0}</style>
</head><body>
<h1>${esc(title)}</h1>
${sections.join('\n')}
</body></html>
`;
}

export const preBlock = (text: string): string => `<pre>${esc(text)}</pre>`;
