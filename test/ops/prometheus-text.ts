/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws on
 * anything a Prometheus server would reject or that the format forbids (bad names, bad
 * escapes, samples before their TYPE, a family split in two, duplicate series, histograms
 * whose buckets are not cumulative or lack +Inf, _count different from the +Inf bucket).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const seen = new Set<string>();
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, index) => {
    const at = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line === "") throw new Error(`${at}: empty line`);
    if (line.startsWith("#")) {
      const match = line.match(/^# (HELP|TYPE) (\S+) ?(.*)$/);
      if (!match) {
        if (/^# (HELP|TYPE)/.test(line)) throw new Error(`${at}: malformed ${line.slice(2, 6)}`);
        return; // a plain comment
      }
      const [, kind, name, rest] = match as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`${at}: bad metric name`);
      let family = families.get(name);
      if (family && family !== current) throw new Error(`${at}: family ${name} appears twice`);
      if (!family) {
        if (current) closed.add(current.name);
        family = { name, type: "untyped", samples: [] };
        families.set(name, family);
        current = family;
      }
      if (kind === "TYPE") {
        if (family.samples.length) throw new Error(`${at}: TYPE after samples`);
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) throw new Error(`${at}: unknown type ${rest}`);
        family.type = rest as Family["type"];
      } else {
        if (family.help !== undefined) throw new Error(`${at}: second HELP`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`${at}: bad escape in HELP`);
        family.help = rest;
      }
      return;
    }
    const sample = parseSample(line, at);
    const family = familyOf(sample.name, families);
    if (!family || family !== current) throw new Error(`${at}: sample without its TYPE just before (or a family split in two)`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`${at}: duplicate series`);
    seen.add(key);
    if (family.type === "counter" && (sample.value < 0 || Number.isNaN(sample.value))) throw new Error(`${at}: counter below 0`);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  const base = sampleName.replace(/_(bucket|sum|count)$/, "");
  const family = families.get(base);
  return family && (family.type === "histogram" || family.type === "summary") ? family : undefined;
}

function parseSample(line: string, at: string): Sample {
  const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/);
  if (!match) throw new Error(`${at}: not a sample line`);
  const [, name, , body, valueText] = match as unknown as [string, string, string | undefined, string | undefined, string];
  const labels: Record<string, string> = {};
  if (body !== undefined && body !== "") {
    let rest = body;
    while (rest.length) {
      const label = rest.match(/^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/);
      if (!label) throw new Error(`${at}: bad label near ${JSON.stringify(rest)}`);
      const [whole, key, raw] = label as unknown as [string, string, string];
      if (!LABEL_NAME.test(key) || key.startsWith("__")) throw new Error(`${at}: bad label name ${key}`);
      if (key in labels) throw new Error(`${at}: label ${key} twice`);
      labels[key] = raw.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
      rest = rest.slice(whole.length);
    }
  }
  if (!/^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN)$/.test(valueText)) throw new Error(`${at}: bad value ${valueText}`);
  const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
  return { name, labels, value };
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    const sum = samples.find((s) => s.name === `${family.name}_sum`);
    if (!count || !sum || !buckets.length) throw new Error(`${family.name}${key}: histogram needs buckets, _sum and _count`);
    let previous = -Infinity;
    let previousCount = 0;
    for (const bucket of buckets) {
      if (bucket.labels.le === undefined) throw new Error(`${family.name}${key}: bucket without le`);
      const le = bucket.labels.le === "+Inf" ? Infinity : Number(bucket.labels.le);
      if (!(le > previous)) throw new Error(`${family.name}${key}: buckets not in increasing le order`);
      if (bucket.value < previousCount) throw new Error(`${family.name}${key}: buckets not cumulative`);
      previous = le;
      previousCount = bucket.value;
    }
    if (previous !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (previousCount !== count.value) throw new Error(`${family.name}${key}: _count ${count.value} differs from the +Inf bucket ${previousCount}`);
  }
}

/** The value of the one sample of `name` whose labels include `labels` (0 when absent). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = familyOf(name, families);
  const matches = family?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) ?? [];
  if (matches.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} series`);
  return matches[0]?.value ?? 0;
}
