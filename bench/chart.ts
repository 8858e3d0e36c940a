/**
 * Bar and line charts as hand-written SVG strings. A grouped bar chart: one group per case (e.g. "1,000 clients, one per
 * turn"), one bar per series (e.g. a server). No dependencies; the README shows the file.
 */

/** One bar series: a name and one value per group (NaN where it did not run). */
export interface Series {
  readonly name: string;
  readonly values: readonly number[];
}

/** What to draw. */
export interface BarChart {
  readonly title: string;
  readonly subtitle?: string;
  readonly unit: string;
  readonly groups: readonly string[];
  readonly series: readonly Series[];
}

const COLORS = ['#2563eb', '#7c3aed', '#059669', '#d97706', '#dc2626', '#0891b2', '#4b5563'];

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A rounded axis maximum: 1, 2 or 5 times a power of ten, at or above `max`. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= max)!;
}

/** Short numbers for labels: 1.2M, 340k, 12. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n >= 1e6) return `${+(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return `${+n.toFixed(n >= 10 ? 0 : 2)}`;
}

/** Renders `chart` as a standalone SVG document. */
export function renderBarChart(chart: BarChart): string {
  const width = 860;
  const height = 420;
  const left = 70;
  const right = 20;
  const top = chart.subtitle ? 74 : 56;
  const bottom = 70;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(...chart.series.flatMap((s) => s.values.filter(Number.isFinite))));
  const groupW = plotW / chart.groups.length;
  const barW = Math.min(48, (groupW * 0.8) / chart.series.length);
  const y = (v: number): number => top + plotH - (v / max) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="24" font-size="16" font-weight="600" fill="#111827">${escape(chart.title)}</text>`);
  if (chart.subtitle) out.push(`<text x="${left}" y="44" fill="#4b5563">${escape(chart.subtitle)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (max / 5) * i;
    out.push(`<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${i === 0 ? '#9ca3af' : '#e5e7eb'}"/>`);
    out.push(`<text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#4b5563">${compact(v)}</text>`);
  }
  out.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#4b5563">${escape(chart.unit)}</text>`);
  chart.groups.forEach((group, g) => {
    const x0 = left + g * groupW + (groupW - barW * chart.series.length) / 2;
    chart.series.forEach((series, s) => {
      const v = series.values[g] ?? Number.NaN;
      if (!Number.isFinite(v)) return;
      const x = x0 + s * barW;
      out.push(`<rect x="${(x + 1).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${COLORS[s % COLORS.length]}"><title>${escape(`${series.name}, ${group}: ${compact(v)}`)}</title></rect>`);
      out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#374151">${compact(v)}</text>`);
    });
    out.push(`<text x="${(left + g * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" fill="#111827">${escape(group)}</text>`);
  });
  let lx = left;
  const ly = height - 22;
  chart.series.forEach((series, s) => {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[s % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 18}" y="${ly}" fill="#111827">${escape(series.name)}</text>`);
    lx += 30 + series.name.length * 7;
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** What to draw as lines: one point per x of each series. */
export interface LineChart {
  readonly title: string;
  readonly subtitle?: string;
  readonly unit: string;
  readonly xLabel: string;
  readonly x: readonly number[];
  readonly series: readonly Series[];
  /** A dashed vertical line, e.g. the end of a warm-up. */
  readonly marker?: {readonly x: number; readonly label: string};
}

/** Renders `chart` as a standalone SVG document, the y axis from zero. */
export function renderLineChart(chart: LineChart): string {
  const width = 860;
  const height = 380;
  const left = 70;
  const right = 20;
  const top = chart.subtitle ? 74 : 56;
  const bottom = 76;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(...chart.series.flatMap((s) => s.values.filter(Number.isFinite))));
  const x0 = Math.min(...chart.x);
  const x1 = Math.max(...chart.x, x0 + 1);
  const px = (v: number): number => left + ((v - x0) / (x1 - x0)) * plotW;
  const py = (v: number): number => top + plotH - (v / max) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="24" font-size="16" font-weight="600" fill="#111827">${escape(chart.title)}</text>`);
  if (chart.subtitle) out.push(`<text x="${left}" y="44" fill="#4b5563">${escape(chart.subtitle)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (max / 5) * i;
    out.push(`<line x1="${left}" x2="${width - right}" y1="${py(v).toFixed(1)}" y2="${py(v).toFixed(1)}" stroke="${i === 0 ? '#9ca3af' : '#e5e7eb'}"/>`);
    out.push(`<text x="${left - 8}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end" fill="#4b5563">${compact(v)}</text>`);
  }
  const step = Math.max(1, Math.ceil(chart.x.length / 15));
  chart.x.forEach((v, i) => {
    if (i % step === 0 || i === chart.x.length - 1) out.push(`<text x="${px(v).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" fill="#4b5563">${compact(v)}</text>`);
  });
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 38}" text-anchor="middle" fill="#4b5563">${escape(chart.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#4b5563">${escape(chart.unit)}</text>`);
  if (chart.marker !== undefined) {
    const mx = px(chart.marker.x).toFixed(1);
    out.push(`<line x1="${mx}" x2="${mx}" y1="${top}" y2="${top + plotH}" stroke="#6b7280" stroke-dasharray="4 4"/>`);
    out.push(`<text x="${(Number(mx) + 6).toFixed(1)}" y="${top + 12}" fill="#4b5563">${escape(chart.marker.label)}</text>`);
  }
  chart.series.forEach((series, s) => {
    const points = chart.x.map((v, i) => [v, series.values[i] ?? Number.NaN] as const).filter(([, y]) => Number.isFinite(y));
    const d = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)} ${py(y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${COLORS[s % COLORS.length]}" stroke-width="2"><title>${escape(series.name)}</title></path>`);
  });
  let lx = left;
  const ly = height - 14;
  chart.series.forEach((series, s) => {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[s % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 18}" y="${ly}" fill="#111827">${escape(series.name)}</text>`);
    lx += 30 + series.name.length * 7;
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
