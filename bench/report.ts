/**
 * Turns measurements into the printed table, docs/benchmarks.md and its SVG chart.
 */
import { FLOOR } from './contenders.js';
import { medianOf, medianRatio, type MetricSpec, type ScenarioResult, type Unit } from './harness.js';
import type { Verdict } from './targets.js';

/** 200000 → "200 000" (thousands grouped with spaces). */
export function count(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

export function formatValue(value: number, unit: Unit): string {
  if (Number.isNaN(value)) return '—';
  switch (unit) {
    case 'ns':
      return `${count(value)} ns`;
    case 'B':
      return `${count(value)} B`;
    case 'ops/s':
      return `${count(value / 1000)} k/s`;
    case 'count':
      return count(value);
    case 'ms':
      return `${value >= 0 ? '+' : ''}${value.toFixed(2)} ms`;
    case '×':
      return `${value.toFixed(2)}×`;
  }
}

/** Ratios to the floor are shown for costs and rates, not for counts, latenesses or growths. */
const hasRatio = (metric: MetricSpec): boolean => metric.unit === 'ns' || metric.unit === 'B' || metric.unit === 'ops/s';

function cell(result: ScenarioResult, metric: MetricSpec, pool: string): string {
  const samples = result.samples[metric.key]?.[pool];
  if (samples === undefined) return '—';
  const value = formatValue(medianOf(result.samples, metric.key, pool), metric.unit);
  if (!hasRatio(metric) || pool === FLOOR || result.samples[metric.key]?.[FLOOR] === undefined) return value;
  return `${value} (${medianRatio(result, metric.key, pool).toFixed(2)}×)`;
}

export interface Table {
  readonly header: string[];
  readonly rows: string[][];
}

export function resultTable(results: readonly ScenarioResult[], pools: readonly string[]): Table {
  const rows: string[][] = [];
  for (const result of results) {
    for (const [i, metric] of result.metrics.entries()) {
      const scenario = i === 0 ? `${result.scenario.id}. ${result.title}` : '';
      rows.push([scenario, metric.label, ...pools.map((pool) => cell(result, metric, pool))]);
    }
  }
  return { header: ['scenario', 'metric', ...pools], rows };
}

export function verdictTable(verdicts: readonly Verdict[]): Table {
  return {
    header: ['target', 'measured (poolkeeper)', 'met'],
    rows: verdicts.map((v) => [v.target, v.measured, v.met ? 'yes' : 'NO']),
  };
}

/** A plain-text table with aligned columns, for the terminal. */
export function textTable(table: Table): string {
  const all = [table.header, ...table.rows];
  const widths = table.header.map((_, c) => Math.max(...all.map((row) => [...(row[c] ?? '')].length)));
  const line = (row: string[]): string => row.map((text, c) => text.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(table.header), widths.map((w) => '─'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n');
}

export function markdownTable(table: Table): string {
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const line = (row: string[]): string => `| ${row.map(escape).join(' | ')} |`;
  return [line(table.header), `|${table.header.map(() => '---').join('|')}|`, ...table.rows.map(line)].join('\n');
}

// ───────────────────────────── chart ─────────────────────────────

const COLORS: Record<string, string> = {
  floor: '#9aa0a6',
  poolkeeper: '#1a73e8',
  'generic-pool': '#e8710a',
  tarn: '#188038',
  'lightning-pool': '#a142f4',
};

interface Bar {
  readonly pool: string;
  readonly ns: number;
}

interface Group {
  readonly label: string;
  readonly bars: Bar[];
}

/** Median ns per op of every charted metric; rates are turned into ns per op (1e9 / rate). */
function chartGroups(results: readonly ScenarioResult[], pools: readonly string[]): Group[] {
  const groups: Group[] = [];
  for (const result of results) {
    for (const metric of result.metrics) {
      if (metric.chart === undefined) continue;
      const bars: Bar[] = [];
      for (const pool of pools) {
        if (result.samples[metric.key]?.[pool] === undefined) continue;
        const value = medianOf(result.samples, metric.key, pool);
        bars.push({ pool, ns: metric.unit === 'ops/s' ? 1e9 / value : value });
      }
      groups.push({ label: metric.chart, bars });
    }
  }
  return groups;
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function durationLabel(ns: number): string {
  if (ns < 1_000) return `${Math.round(ns)} ns`;
  if (ns < 1_000_000) return `${+(ns / 1_000).toPrecision(3)} µs`;
  return `${+(ns / 1_000_000).toPrecision(3)} ms`;
}

/**
 * A horizontal grouped bar chart of ns per op, one group per scenario, on a log scale (the
 * pools differ by up to three orders of magnitude). Plain SVG, no scripts or fonts to fetch.
 */
export function barChart(results: readonly ScenarioResult[], pools: readonly string[]): string {
  const groups = chartGroups(results, pools);
  const barHeight = 14;
  const barGap = 2;
  const groupGap = 14;
  const left = 130;
  const plotWidth = 560;
  const top = 48;
  const all = groups.flatMap((g) => g.bars.map((b) => b.ns)).filter((ns) => ns > 0 && Number.isFinite(ns));
  const low = 10 ** Math.floor(Math.log10(Math.min(...all)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const x = (ns: number): number => left + (plotWidth * Math.log10(ns / low)) / Math.log10(high / low);

  const parts: string[] = [];
  let y = top;
  for (const group of groups) {
    const groupHeight = group.bars.length * (barHeight + barGap) - barGap;
    parts.push(`<text x="${left - 8}" y="${y + groupHeight / 2 + 4}" text-anchor="end" class="label">${escapeXml(group.label)}</text>`);
    for (const bar of group.bars) {
      const width = Math.max(1, x(bar.ns) - left);
      parts.push(`<rect x="${left}" y="${y}" width="${width.toFixed(1)}" height="${barHeight}" fill="${COLORS[bar.pool] ?? '#555'}"><title>${escapeXml(`${bar.pool}: ${durationLabel(bar.ns)}`)}</title></rect>`);
      parts.push(`<text x="${(left + width + 4).toFixed(1)}" y="${y + barHeight - 3}" class="value">${escapeXml(durationLabel(bar.ns))}</text>`);
      y += barHeight + barGap;
    }
    y += groupGap;
  }
  const bottom = y - groupGap + 8; // the plot ends here; tick labels and the axis title go below
  const grid: string[] = [];
  for (let tick = low; tick <= high; tick *= 10) {
    const gx = x(tick).toFixed(1);
    grid.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${bottom}" class="grid"/>`);
    grid.push(`<text x="${gx}" y="${bottom + 14}" text-anchor="middle" class="axis">${durationLabel(tick)}</text>`);
  }
  const legend = pools.map((pool, i) => {
    const lx = left + i * 130;
    return `<rect x="${lx}" y="14" width="12" height="12" fill="${COLORS[pool] ?? '#555'}"/><text x="${lx + 17}" y="24" class="label">${escapeXml(pool)}</text>`;
  });
  const width = left + plotWidth + 80;
  const height = bottom + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="ns per acquire/release, by scenario and pool (log scale)">`,
    '<style>text{font-family:system-ui,sans-serif;fill:#222}.label{font-size:12px}.value{font-size:10px}.axis{font-size:10px;fill:#555}.grid{stroke:#ddd;stroke-width:1}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...grid,
    ...legend,
    ...parts,
    `<text x="${left + plotWidth}" y="${bottom + 32}" text-anchor="end" class="axis">ns per op, log scale (lower is better)</text>`,
    '</svg>',
    '',
  ].join('\n');
}
