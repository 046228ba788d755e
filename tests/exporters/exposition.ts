/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: it checks the line
 * grammar (names, labels, escapes, values), `# HELP`/`# TYPE` once per family and before its
 * samples, families contiguous, no duplicate series, and histogram consistency (`le` ascending,
 * cumulative counts, a `+Inf` bucket equal to `_count`). When `promtool` is installed, the text
 * is also given to `promtool check metrics`.
 */
import { spawnSync } from 'node:child_process';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly help: Map<string, string>;
  readonly type: Map<string, string>;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`bad sample value in ${JSON.stringify(line)}`);
  return Number(text);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < text.length) {
    LABEL.lastIndex = at;
    const m = LABEL.exec(text);
    if (m === null) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    const [, key, raw] = m;
    if (key!.startsWith('__')) throw new Error(`reserved label ${key} in ${JSON.stringify(line)}`);
    if (key! in out) throw new Error(`duplicate label ${key} in ${JSON.stringify(line)}`);
    out[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    at = LABEL.lastIndex;
    if (at < text.length) {
      if (text[at] !== ',') throw new Error(`bad labels in ${JSON.stringify(line)}`);
      at++;
      if (at === text.length) break; // a trailing comma is allowed
    }
  }
  return out;
}

/** The family a sample belongs to, given the declared types. */
function familyOf(name: string, type: Map<string, string>): string {
  for (const [suffix, kinds] of [['_bucket', ['histogram']], ['_sum', ['histogram', 'summary']], ['_count', ['histogram', 'summary']]] as const) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    if ((kinds as readonly string[]).includes(type.get(base) ?? '')) return base;
  }
  return name;
}

const seriesKey = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;

/** Parses and checks `text`; throws an Error saying what is wrong. */
export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  const finished = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const enter = (family: string): void => {
    if (current === family) return;
    if (finished.has(family)) throw new Error(`family ${family} is not contiguous`);
    if (current !== undefined) finished.add(current);
    current = family;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue; // blank lines are allowed between families
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (m === null) continue; // other comments are allowed
      const [, keyword, name, rest] = m;
      if (!METRIC_NAME.test(name!)) throw new Error(`bad metric name in ${JSON.stringify(line)}`);
      enter(name!);
      if (keyword === 'HELP') {
        if (help.has(name!)) throw new Error(`second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest!)) throw new Error(`bad escape in ${JSON.stringify(line)}`);
        help.set(name!, rest!);
      } else {
        if (type.has(name!)) throw new Error(`second TYPE for ${name}`);
        if (!TYPES.has(rest!)) throw new Error(`unknown type in ${JSON.stringify(line)}`);
        if (samples.some((s) => familyOf(s.name, type) === name)) throw new Error(`TYPE after samples of ${name}`);
        type.set(name!, rest!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (m === null) throw new Error(`malformed line ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = m;
    const labels = parseLabels(labelText ?? '', line);
    const family = familyOf(name!, type);
    enter(family);
    const key = seriesKey(name!, labels);
    if (seen.has(key)) throw new Error(`duplicate series ${key}`);
    seen.add(key);
    samples.push({ name: name!, labels, value: parseValue(valueText!, line) });
  }
  for (const [family, kind] of type) if (kind === 'histogram') checkHistogram(family, samples);
  return { help, type, samples };
}

function checkHistogram(family: string, samples: readonly Sample[]): void {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    if (s.name !== `${family}_bucket`) continue;
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${family}_bucket without le`);
    const key = seriesKey(family, rest);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, buckets] of groups) {
    const bounds = buckets.map((b) => parseValue(b.labels.le!, key));
    for (let i = 1; i < buckets.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new Error(`${key}: le not ascending`);
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${key}: buckets not cumulative`);
    }
    if (bounds.at(-1) !== Infinity) throw new Error(`${key}: no +Inf bucket`);
    const { le: _, ...labels } = buckets[0]!.labels;
    const count = samples.find((s) => s.name === `${family}_count` && seriesKey(family, { ...s.labels }) === seriesKey(family, labels));
    const sum = samples.find((s) => s.name === `${family}_sum` && seriesKey(family, { ...s.labels }) === seriesKey(family, labels));
    if (count === undefined || sum === undefined) throw new Error(`${key}: no _count or _sum`);
    if (count.value !== buckets.at(-1)!.value) throw new Error(`${key}: +Inf bucket differs from _count`);
  }
}

/** The value of the one sample `name` with exactly `labels`. */
export function valueOf(e: Exposition, name: string, labels: Record<string, string>): number {
  const want = seriesKey(name, labels);
  const found = e.samples.filter((s) => seriesKey(s.name, { ...s.labels }) === want);
  if (found.length !== 1) throw new Error(`${want}: ${found.length} samples`);
  return found[0]!.value;
}

/** `promtool check metrics` on `text`, when promtool is installed: `undefined` when it is not. */
export function promtoolCheck(text: string): { status: number | null; output: string } | undefined {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (result.error !== undefined && (result.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
