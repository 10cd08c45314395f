// Medians, targets and the printed table.
import { GiB, MiB } from "./data.ts";
import type { Sizes } from "./workloads.ts";

export type Samples = Record<string, Record<string, number[]>>; // server -> figure -> one value per run
export type Medians = Record<string, Record<string, number>>;

export interface Target {
  server: string;
  name: string;
  value: string;
  result: "PASS" | "FAIL" | "n/a";
}

export const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function medians(samples: Samples): Medians {
  const out: Medians = {};
  for (const [server, figs] of Object.entries(samples)) {
    out[server] = {};
    for (const [k, xs] of Object.entries(figs)) out[server][k] = median(xs);
  }
  return out;
}

/** The bound the README states for Berth on Node under workload 8 (8 clients, mixed). */
const MIXED_BOUND_MIB = 160;

export const fmtSize = (b: number): string => (b >= GiB && b % GiB === 0 ? `${b / GiB} GiB` : `${+(b / MiB).toFixed(1)} MiB`);

interface Row { key: string; label: string; unit: string; lowerIsBetter?: boolean }

export function rows(sizes: Sizes, connections: number): Row[] {
  const s = fmtSize(sizes.push);
  const r: Row[] = [
    { key: "push_patch_MBps", label: `1 push POST+PATCH+PUT ${s}`, unit: "MB/s" },
    { key: "push_patch_sys_s_per_GiB", label: "1   server kernel CPU", unit: "s/GiB", lowerIsBetter: true },
    { key: "push_put_MBps", label: `2 push POST+PUT(body) ${s}`, unit: "MB/s" },
    { key: "push_put_sys_s_per_GiB", label: "2   server kernel CPU", unit: "s/GiB", lowerIsBetter: true },
    { key: "pull_MBps", label: `3 pull ${s}`, unit: "MB/s" },
    { key: "pull_range_MBps", label: `3 pull Range middle ${fmtSize(sizes.range)}`, unit: "MB/s" },
    { key: "manifest_rps", label: `4 manifest GET by tag, ${connections} conns`, unit: "req/s" },
    { key: "manifest_p99_ms", label: "4 manifest GET p99 latency", unit: "ms", lowerIsBetter: true },
    { key: "manifest_cpu_us", label: "4   server CPU per request", unit: "us", lowerIsBetter: true },
    { key: "concurrent_MBps", label: `5 ${sizes.concurrentPushes} concurrent pushes x ${fmtSize(sizes.concurrentBlob)}`, unit: "MB/s" },
    { key: "concurrent_sys_s_per_GiB", label: "5   server kernel CPU", unit: "s/GiB", lowerIsBetter: true },
    { key: "steady_patch_MBps", label: `9 push POST+PATCH+PUT ${fmtSize(sizes.steadyPush)}, full page cache`, unit: "MB/s" },
    { key: "steady_patch_sys_s_per_GiB", label: "9   server kernel CPU", unit: "s/GiB", lowerIsBetter: true },
    { key: "steady_put_MBps", label: `9 push POST+PUT(body) ${fmtSize(sizes.steadyPush)}, full page cache`, unit: "MB/s" },
    { key: "steady_put_sys_s_per_GiB", label: "9   server kernel CPU", unit: "s/GiB", lowerIsBetter: true },
    { key: "steady_cgroup_charged_pct", label: `9   charged to its ${fmtSize(sizes.cgroupLimit)} cgroup before`, unit: "%" },
  ];
  for (const b of sizes.rss) {
    r.push({ key: `rss_${b / MiB}MiB_MiB`, label: `6 peak RSS, fresh server, push ${fmtSize(b)}`, unit: "MiB", lowerIsBetter: true });
    r.push({ key: `rss_${b / MiB}MiB_tree_MiB`, label: `6   same, whole process tree`, unit: "MiB", lowerIsBetter: true });
  }
  r.push(
    { key: "mixed_ops_per_s", label: `8 mixed load, ${sizes.mixedClients} clients ${sizes.mixedSeconds} s: requests`, unit: "ops/s" },
    { key: "mixed_push_MBps", label: "8   bytes pushed", unit: "MB/s" },
    { key: "mixed_rss_before_MiB", label: "8   RSS before", unit: "MiB", lowerIsBetter: true },
    { key: "mixed_rss_peak1_MiB", label: "8   peak RSS, first third", unit: "MiB", lowerIsBetter: true },
    { key: "mixed_rss_peak2_MiB", label: "8   peak RSS, second third", unit: "MiB", lowerIsBetter: true },
    { key: "mixed_rss_peak3_MiB", label: "8   peak RSS, last third", unit: "MiB", lowerIsBetter: true },
    { key: "mixed_rss_after_MiB", label: "8   RSS 5 s after", unit: "MiB", lowerIsBetter: true },
    { key: "startup_s", label: "   first answer: spawn until GET /v2/ answers", unit: "s", lowerIsBetter: true },
    { key: "idle_rss_MiB", label: "   idle RSS after the first answer", unit: "MiB", lowerIsBetter: true },
    { key: "skopeo_in_s", label: `7 skopeo copy in ${fmtSize(sizes.skopeo)}`, unit: "s", lowerIsBetter: true },
    { key: "skopeo_out_s", label: `7 skopeo copy out ${fmtSize(sizes.skopeo)}`, unit: "s", lowerIsBetter: true },
  );
  return r;
}

const num = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? "-" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);

/** Ratio columns compare every other server with the reference (Berth / distribution). */
export function renderTable(m: Medians, servers: string[], reference: string | undefined, sizes: Sizes, connections: number): string {
  const others = servers.filter((s) => s !== reference);
  const head = ["workload", "unit", ...servers, ...(reference ? others.map((s) => `${s}/${reference}`) : [])];
  const measured = rows(sizes, connections).filter((r) => servers.some((s) => Number.isFinite(m[s]?.[r.key])));
  const body = measured.map((r) => [
    r.label,
    r.unit,
    ...servers.map((s) => num(m[s]?.[r.key])),
    ...(reference ? others.map((s) => ratio(m[s]?.[r.key], m[reference]?.[r.key])) : []),
  ]);
  const all = [head, ...body];
  const width = head.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join("  ");
  return [line(head), width.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "-";
  return `${(a / b).toFixed(2)}x`;
}

/** The targets of issue 6, for every non-reference server. */
export function evaluateTargets(
  m: Medians,
  servers: string[],
  reference: string | undefined,
  sha256: number,
  sizes: Sizes,
  errorsBy: Record<string, number>,
): Target[] {
  const out: Target[] = [];
  for (const s of servers.filter((x) => x !== reference)) {
    const v = m[s] ?? {};
    const ref = reference ? m[reference] ?? {} : {};
    const rel = (name: string, key: string, factor: number) => {
      const a = v[key];
      const b = ref[key];
      if (!Number.isFinite(a) || !Number.isFinite(b)) return out.push({ server: s, name, value: "-", result: "n/a" });
      out.push({ server: s, name, value: `${(a / b).toFixed(2)}x`, result: a >= factor * b ? "PASS" : "FAIL" });
    };
    const abs = (name: string, key: string, ok: (x: number) => boolean, unit: string) => {
      const a = v[key];
      if (!Number.isFinite(a)) return out.push({ server: s, name, value: "-", result: "n/a" });
      out.push({ server: s, name, value: `${num(a)} ${unit}`, result: ok(a) ? "PASS" : "FAIL" });
    };
    const share = 0.4 * sha256; // issue 17: 40% of one core's SHA-256 for a single streamed PATCH
    const refName = reference ?? "reference";
    rel(`push PATCH >= 2.5x ${refName}`, "push_patch_MBps", 2.5);
    abs(`push PATCH >= 40% one-core SHA-256 (${share.toFixed(0)} MB/s)`, "push_patch_MBps", (x) => x >= share, "MB/s");
    rel(`push PUT(body) >= 2.5x ${refName}`, "push_put_MBps", 2.5);
    rel(`push PATCH >= 2.5x ${refName}, full page cache`, "steady_patch_MBps", 2.5);
    abs(`push PATCH >= 40% one-core SHA-256, full page cache`, "steady_patch_MBps", (x) => x >= share, "MB/s");
    rel(`push PUT(body) >= 2.5x ${refName}, full page cache`, "steady_put_MBps", 2.5);
    rel(`pull >= 1.2x ${refName}`, "pull_MBps", 1.2);
    rel(`ranged pull >= 1.2x ${refName}`, "pull_range_MBps", 1.2);
    rel(`manifest GET req/s >= 5x ${refName}`, "manifest_rps", 5);
    rel(`${sizes.concurrentPushes} concurrent pushes >= 1.5x ${refName}`, "concurrent_MBps", 1.5);
    for (const b of sizes.rss) abs(`peak RSS < 80 MiB, push ${fmtSize(b)}`, `rss_${b / MiB}MiB_MiB`, (x) => x < 80, "MiB");
    // Workload 8: the README's stated bound, and level (the last third no higher than the peak before it + 10%).
    abs(`mixed load: peak RSS < ${MIXED_BOUND_MIB} MiB`, "mixed_rss_peak3_MiB", (x) => x < MIXED_BOUND_MIB && (v.mixed_rss_peak3_MiB ?? 0) <= 1.1 * Math.max(v.mixed_rss_peak1_MiB ?? 0, v.mixed_rss_peak2_MiB ?? 0), "MiB");
    abs("first answer <= 0.15 s after spawn", "startup_s", (x) => x <= 0.15, "s");
    abs("idle RSS < 50 MiB", "idle_rss_MiB", (x) => x < 50, "MiB");
    const e = errorsBy[s] ?? 0;
    out.push({ server: s, name: "no errors", value: String(e), result: e === 0 ? "PASS" : "FAIL" });
  }
  return out;
}

export function renderTargets(targets: Target[]): string {
  const w = Math.max(...targets.map((t) => t.name.length));
  return targets.map((t) => `${t.result.padEnd(4)}  ${t.server.padEnd(12)}  ${t.name.padEnd(w)}  ${t.value}`).join("\n");
}
