/**
 * A small Prometheus text-format emitter (exposition format 0.0.4): counters, gauges and
 * histograms with labels. No prom-client: it needs Node modules, and this is all Berth uses.
 * Counters live per process (per isolate on Workers); a scrape sees that process's counts,
 * plus the snapshots of its peers when it has some (the workers of `berth serve --workers`).
 */

type Labels = Record<string, string>;

/** One labelled value; plain data, so a snapshot can go to another process as it is. */
export interface Series {
  labels: Labels;
  value: number;
  /** Histograms: cumulative counts per bucket, and the sum of observations. */
  buckets?: number[];
  sum?: number;
}

abstract class Metric {
  protected readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
  ) {}

  protected seriesOf(labels: Labels): Series {
    const key = keyOf(labels);
    let series = this.series.get(key);
    if (!series) this.series.set(key, (series = this.create(labels)));
    return series;
  }

  protected create(labels: Labels): Series {
    return { labels, value: 0 };
  }

  snapshot(): Series[] {
    return [...this.series.values()];
  }

  abstract render(series: Series[]): string[];
}

type MetricType = Metric["type"];

/** The same series of several processes added up (every Berth metric is a sum); copies, never the live series. */
function sumSeries(lists: Series[][]): Series[] {
  const sums = new Map<string, Series>();
  for (const series of lists.flat()) {
    const key = keyOf(series.labels);
    const into = sums.get(key);
    if (!into) {
      sums.set(key, { ...series, buckets: series.buckets?.slice() });
      continue;
    }
    into.value += series.value;
    if (into.sum !== undefined) into.sum += series.sum ?? 0;
    into.buckets?.forEach((count, i) => (into.buckets![i] = count + (series.buckets?.[i] ?? 0)));
  }
  return [...sums.values()];
}

// Labels are always set in the same order by the code that counts, in every process.
const keyOf = (labels: Labels) => Object.values(labels).join("\u0000");

export class Counter extends Metric {
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  inc(labels: Labels = {}, by = 1): void {
    this.seriesOf(labels).value += by;
  }
  render(series: Series[]): string[] {
    return series.map((s) => `${this.name}${formatLabels(s.labels)} ${formatNumber(s.value)}`);
  }
}

export class Gauge extends Counter {
  override readonly type = "gauge" as const;
  dec(labels: Labels = {}, by = 1): void {
    this.inc(labels, -by);
  }
}

export class Histogram extends Metric {
  constructor(name: string, help: string, readonly bounds: number[]) {
    super(name, help, "histogram");
  }
  protected override create(labels: Labels): Series {
    return { labels, value: 0, sum: 0, buckets: this.bounds.map(() => 0) };
  }
  observe(labels: Labels, value: number): void {
    const series = this.seriesOf(labels);
    series.value++;
    series.sum! += value;
    const buckets = series.buckets!;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) buckets[i]!++;
  }
  render(series: Series[]): string[] {
    const lines: string[] = [];
    for (const s of series) {
      this.bounds.forEach((bound, i) => lines.push(`${this.name}_bucket${formatLabels({ ...s.labels, le: formatNumber(bound) })} ${s.buckets![i]}`));
      lines.push(`${this.name}_bucket${formatLabels({ ...s.labels, le: "+Inf" })} ${s.value}`);
      lines.push(`${this.name}_sum${formatLabels(s.labels)} ${formatNumber(s.sum!)}`);
      lines.push(`${this.name}_count${formatLabels(s.labels)} ${s.value}`);
    }
    return lines;
  }
}

/** What one process has counted, by metric name: plain data, sent between processes as it is. */
export type MetricsSnapshot = Record<string, { type: MetricType; series: Series[] }>;

/**
 * `snapshot` added into `into` (a new snapshot), gauges left out: what a process that has
 * exited had counted, kept so that the sums over a cluster never go down when it is gone.
 */
export function retireSnapshot(into: MetricsSnapshot, snapshot: MetricsSnapshot): MetricsSnapshot {
  const out: MetricsSnapshot = { ...into };
  for (const [name, { type, series }] of Object.entries(snapshot)) {
    if (type === "gauge") continue; // in flight: gone with the process
    out[name] = { type, series: sumSeries([into[name]?.series ?? [], series]) };
  }
  return out;
}

/** The metrics of one registry, rendered together for `GET /metrics`. */
export class MetricSet {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  snapshot(): MetricsSnapshot {
    return Object.fromEntries(this.metrics.map((metric) => [metric.name, { type: metric.type, series: metric.snapshot() }]));
  }

  /** The text of this process's counts, with `peers` (other processes' snapshots) summed in. */
  render(peers: MetricsSnapshot[] = []): string {
    const out: string[] = [];
    for (const metric of this.metrics) {
      const own = metric.snapshot();
      const series = peers.length ? sumSeries([own, ...peers.map((peer) => peer[metric.name]?.series ?? [])]) : own;
      out.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${metric.name} ${metric.type}`, ...metric.render(series));
    }
    return `${out.join("\n")}\n`;
  }
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (!entries.length) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Prometheus' default latency buckets, in seconds (as distribution's metrics use). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Body sizes from 1 KiB to 4 GiB, by powers of 4. */
export const SIZE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1024 * 4 ** i);
