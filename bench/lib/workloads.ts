// The workloads of issue 6. Each measures one running server once and returns named
// figures; a thrown error is recorded as a failed request by the caller.
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { type Blob, type BlobFactory, GiB, MiB } from "./data.ts";
import { request } from "./http.ts";
import { getLoad } from "./loadgen.ts";
import { checkBlob, OCI_MANIFEST, pullBlob, pushImage, pushMonolithic, pushStreamed } from "./registry.ts";
import { MemoryCgroup } from "./memory-cgroup.ts";
import { type RunningServer, type ServerKind, treeCpu } from "./servers.ts";
import { runMixedLoad } from "./mixed-load.ts";
import { makeLayer, skopeoAvailable, skopeoCopy, skopeoEnv, writeLayout } from "./skopeo.ts";

export interface Sizes {
  block: number; // random block repeated to build blobs
  push: number; // workloads 1-3
  range: number; // ranged pull, from the middle of the pulled blob
  manifestSeconds: number;
  connections: number;
  concurrentPushes: number;
  concurrentBlob: number;
  rss: number[]; // workload 6, one fresh server per size
  skopeo: number;
  runs: number;
  mixedSeconds: number; // workload 8
  mixedClients: number;
  steadyPush: number; // workload 9's blobs (half workload 1's: the full run stays near 10 minutes)
  cgroupLimit: number; // workload 9: each pushing server's memory cgroup (page cache and RSS)
}

export interface Context {
  factory: BlobFactory;
  sizes: Sizes;
  tmp: string;
  cores: number;
  /** Blob pushed by workload 1 per server in the current run, reused for pulls. */
  pushed: Map<string, Blob>;
  /** Each server's memory cgroup in the current run, for workload 9 (run.ts makes them). */
  cgroups: Map<RunningServer, MemoryCgroup>;
}

export type Figures = Record<string, number>;

export interface Workload {
  id: string;
  title: string;
  /** null when it can run here, else why not. */
  unavailable?: () => string | null;
  /** Only in the first run (a long workload: the full bench stays under 10 minutes). */
  once?: boolean;
  run(server: RunningServer, ctx: Context, run: number): Promise<Figures>;
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/** Flush dirty pages so a push does not pay for the writeback of the previous one. */
export function settleDisk(): void {
  execFileSync("sync");
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * A push timed, with the kernel CPU-seconds per GiB its server spent meanwhile (all threads and
 * processes). On this VM that figure says which regime a push met: writing a new file into
 * pages the guest used recently costs up to ~1.5 s per GiB, into pages it has not touched for a while
 * 3-4 s (README, Performance), whoever writes. A push's MB/s is only comparable with others
 * of its regime.
 */
export async function timedPush(s: RunningServer, bytes: number, fn: () => Promise<unknown>): Promise<{ ms: number; sysPerGiB: number }> {
  const before = treeCpu(s.pid).sys;
  const ms = await timed(fn);
  return { ms, sysPerGiB: (treeCpu(s.pid).sys - before) / (bytes / GiB) };
}

export const WORKLOADS: Workload[] = [
  {
    id: "1",
    title: "push POST+PATCH+PUT",
    async run(s, ctx, run) {
      const { blob, MBps, sysPerGiB } = await checkedPush(s, ctx, `bench/w1-${run}`, pushStreamed, ctx.sizes.push);
      ctx.pushed.set(s.kind, blob);
      return { push_patch_MBps: MBps, push_patch_sys_s_per_GiB: sysPerGiB };
    },
  },
  {
    id: "2",
    title: "push POST+PUT(body)",
    async run(s, ctx, run) {
      const { MBps, sysPerGiB } = await checkedPush(s, ctx, `bench/w2-${run}`, pushMonolithic, ctx.sizes.push);
      return { push_put_MBps: MBps, push_put_sys_s_per_GiB: sysPerGiB };
    },
  },
  {
    id: "3",
    title: "pull blob, full and ranged",
    async run(s, ctx, run) {
      let blob = ctx.pushed.get(s.kind);
      const repo = `bench/w1-${run}`;
      if (!blob) {
        blob = ctx.factory.make(ctx.sizes.push);
        await pushStreamed(s.url, repo, blob);
        ctx.pushed.set(s.kind, blob);
      }
      settleDisk();
      const full = await timed(() => pullBlob(s.url, repo, blob));
      const start = Math.floor((blob.size - ctx.sizes.range) / 2);
      const ranged = await timed(() => pullBlob(s.url, repo, blob, [start, start + ctx.sizes.range]));
      return { pull_MBps: mbps(blob.size, full), pull_range_MBps: mbps(ctx.sizes.range, ranged) };
    },
  },
  {
    id: "4",
    title: "manifest GET by tag",
    async run(s, ctx) {
      const repo = MANIFEST_REPO; // pushed by warmUp: a tag that is read, not one just written
      const threads = Math.max(1, Math.min(4, ctx.cores));
      const headers: Record<string, string> = { Accept: OCI_MANIFEST };
      if (s.tokenAuth) headers.Authorization = `Bearer ${await fetchToken(s.url, `repository:${repo}:pull`)}`;
      const before = treeCpu(s.pid);
      const r = await getLoad(`${s.url}/v2/${repo}/manifests/latest`, headers, ctx.sizes.connections, ctx.sizes.manifestSeconds, threads);
      const after = treeCpu(s.pid);
      if (r.errors) throw new Error(`manifest GET: ${r.errors} errors of ${r.requests} (${r.errorDetail})`);
      // The server's own CPU per request: it moves much less than req/s with how much of the
      // 2 cores the load tool took, so it compares costs (a token check) across runs and kinds.
      const cpuSeconds = after.user + after.sys - (before.user + before.sys);
      return { manifest_rps: r.rps, manifest_p99_ms: r.p99ms, manifest_cpu_us: r.requests > 0 ? (cpuSeconds / r.requests) * 1e6 : NaN };
    },
  },
  {
    id: "5",
    title: "concurrent pushes",
    async run(s, ctx, run) {
      const n = ctx.sizes.concurrentPushes;
      const blobs = Array.from({ length: n }, () => ctx.factory.make(ctx.sizes.concurrentBlob));
      settleDisk();
      const results: PromiseSettledResult<void>[] = [];
      const { ms, sysPerGiB } = await timedPush(s, n * ctx.sizes.concurrentBlob, async () => {
        results.push(...(await Promise.allSettled(blobs.map((b, i) => pushStreamed(s.url, `bench/w5-${run}-${i}`, b)))));
      });
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed.length) throw new Error(`${failed.length} of ${n} concurrent pushes failed: ${String(failed[0].reason)}`);
      for (let i = 0; i < n; i++) await checkBlob(s.url, `bench/w5-${run}-${i}`, blobs[i]);
      return { concurrent_MBps: mbps(n * ctx.sizes.concurrentBlob, ms), concurrent_sys_s_per_GiB: sysPerGiB };
    },
  },
  {
    id: "8",
    title: "sustained mixed load, RSS over time",
    once: true,
    run: runMixedLoad,
  },
  {
    // Workloads 1, 2 and 5 write into free memory, which on this VM the host must back again
    // page by page (README, Performance): their kernel CPU says which of two regimes a push met,
    // and that depends on what ran just before. Here each server has run since its first answer
    // in a memory cgroup of its own (sizes.cgroupLimit), topped up to full with untimed pushes,
    // so every page these pushes write is one the kernel just reclaimed from that server's own
    // page cache: the steady state of any long-running host whose RAM is full of cache.
    id: "9",
    title: "push into a full page cache (memory cgroup)",
    unavailable: () => MemoryCgroup.unavailable(),
    // Its figures vary less than those of workloads 1, 2 and 5 (at 19:50 on 2026-12-04, three
    // runs: Berth's PATCH 724-771 MB/s, distribution's 277-288; a later single run 783 and 323):
    // one run keeps the full bench near 10 minutes.
    once: true,
    async run(s, ctx, run) {
      const cgroup = ctx.cgroups.get(s);
      if (!cgroup) throw new Error("this server runs without a memory cgroup");
      await fillCgroup(s, ctx, cgroup);
      const charged = cgroup.usage() / cgroup.limit;
      const figures: Figures = { steady_cgroup_charged_pct: 100 * charged };
      for (const [key, push] of [["steady_patch", pushStreamed], ["steady_put", pushMonolithic]] as const) {
        // The sync before it also makes the pages it reclaims clean: dropped, not written back first.
        const { MBps, sysPerGiB } = await checkedPush(s, ctx, `bench/w9-${run}`, push, ctx.sizes.steadyPush);
        figures[`${key}_MBps`] = MBps;
        figures[`${key}_sys_s_per_GiB`] = sysPerGiB;
      }
      return figures;
    },
  },
  {
    id: "7",
    title: "skopeo copy in/out",
    unavailable: skopeoAvailable,
    async run(s, ctx, run) {
      const dir = path.join(ctx.tmp, "skopeo");
      const sk = skopeoEnv(path.join(dir, "state"));
      const src = await writeLayout(path.join(dir, "src"), makeLayer(ctx.factory, ctx.sizes.skopeo));
      const out = path.join(dir, "out");
      rmSync(out, { recursive: true, force: true });
      const ref = `docker://${new URL(s.url).host}/bench/skopeo-${run}:latest`;
      settleDisk();
      try {
        const tin = await skopeoCopy(sk, ["--dest-tls-verify=false", `oci:${src}:latest`, ref]);
        const tout = await skopeoCopy(sk, ["--src-tls-verify=false", ref, `oci:${out}:latest`]);
        if (!existsSync(path.join(out, "index.json"))) throw new Error("skopeo copy out: no index.json written");
        return { skopeo_in_s: tin, skopeo_out_s: tout };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];

/** The repository workload 4 reads, its tag "latest" pushed by warmUp. */
const MANIFEST_REPO = "bench/manifest";

/** Requests of every kind, untimed, so lazy initialisation, JIT tiering and heap growth are
 *  not charged to the first timed workload (workload 6 measures fresh servers, without it).
 *  Berth on Node ran its first big push of a process at a third of its later speed. A server
 *  that runs only workload 4 gets only its image and the manifest burst. */
export async function warmUp(s: RunningServer, kind: ServerKind, ctx: Context): Promise<void> {
  const pushesToo = !kind.workloads || kind.workloads.some((w) => w !== "4");
  if (pushesToo) await pushStreamed(s.url, "bench/warmup", ctx.factory.make(Math.min(ctx.sizes.push, 256 * MiB)));
  for (let i = 0; i < 2; i++) {
    if (pushesToo) {
      const a = ctx.factory.make(4 * MiB);
      const b = ctx.factory.make(4 * MiB);
      await pushStreamed(s.url, "bench/warmup", a);
      await pushMonolithic(s.url, "bench/warmup", b);
      await checkBlob(s.url, "bench/warmup", a);
      await pullBlob(s.url, "bench/warmup", a);
      await pullBlob(s.url, "bench/warmup", b, [MiB, 3 * MiB]);
    }
    await pushImage(s.url, "bench/warmup", "latest", ctx.factory.make(1024));
  }
  // Workload 4's image, before the burst: its window then starts seconds after the tag was
  // written, as for a tag that is pulled rather than pushed. Berth reads a tag written within
  // the last 2 s from its file (src/storage/small-files.ts); pushed right before the window,
  // as it was until 2026-12-04, that took ~5% off Berth's figure.
  await pushImage(s.url, MANIFEST_REPO, "latest", ctx.factory.make(64 * 1024));
  const pushedAt = performance.now();
  // Half workload 4's time of manifest GETs, so it measures the steady state (JIT tiers, heap
  // growth): in 2 s windows from start, Node served ~87% then steady, Deno ~81%, ~90%, then steady.
  // Go has no JIT: one second fills distribution's caches (and saves ~12 s of a full run).
  const threads = Math.max(1, Math.min(4, ctx.cores));
  const seconds = kind.aheadOfTime ? 1 : Math.ceil(ctx.sizes.manifestSeconds / 2);
  await getLoad(`${s.url}/v2/bench/warmup/manifests/latest`, { Accept: OCI_MANIFEST }, ctx.sizes.connections, seconds, threads);
  const tagAgeMs = performance.now() - pushedAt; // a short burst (--quick, Go) leaves the tag younger than 2 s
  if (tagAgeMs < 2_100) await new Promise((resolve) => setTimeout(resolve, 2_100 - tagAgeMs));
}

/** A fresh blob of `size` pushed with `push` after a `sync`, timed (timedPush), then checked by a HEAD. */
async function checkedPush(
  s: RunningServer,
  ctx: Context,
  repo: string,
  push: (base: string, repo: string, blob: Blob) => Promise<unknown>,
  size: number,
): Promise<{ blob: Blob; MBps: number; sysPerGiB: number }> {
  const blob = ctx.factory.make(size);
  settleDisk();
  const { ms, sysPerGiB } = await timedPush(s, blob.size, () => push(s.url, repo, blob));
  await checkBlob(s.url, repo, blob);
  return { blob, MBps: mbps(blob.size, ms), sysPerGiB };
}

/** Untimed pushes until the cgroup is full and the kernel reclaims from it (the last push
 *  overshoots the limit), so a timed push finds no free memory left in it. After workloads
 *  1, 2 and 5 that is one push or two; after workload 8's deletes, more. */
async function fillCgroup(s: RunningServer, ctx: Context, cgroup: MemoryCgroup): Promise<void> {
  const most = Math.ceil(cgroup.limit / ctx.sizes.steadyPush) + 4;
  for (let i = 0; cgroup.usage() < cgroup.limit - 32 * MiB; i++) {
    if (i === most) throw new Error(`memory cgroup at ${(cgroup.usage() / MiB).toFixed(0)} of ${(cgroup.limit / MiB).toFixed(0)} MiB after ${most} pushes`);
    await pushMonolithic(s.url, "bench/w9-fill", ctx.factory.make(ctx.sizes.steadyPush));
  }
}

/** Workload 6: peak RSS of a freshly started server during one streamed push of `size`. */
export async function measurePushRss(s: RunningServer, ctx: Context, size: number): Promise<Figures> {
  const blob = ctx.factory.make(size);
  settleDisk();
  const ms = await timed(() => pushStreamed(s.url, "bench/rss", blob));
  await checkBlob(s.url, "bench/rss", blob);
  const m = s.memory(); // VmHWM: the peak since the process started, no sampling needed
  const mib = size / MiB;
  return {
    [`rss_${mib}MiB_MiB`]: m.hwm / MiB,
    [`rss_${mib}MiB_tree_MiB`]: m.treeHwm / MiB,
    [`rss_${mib}MiB_push_MBps`]: mbps(size, ms),
  };
}

/** An anonymous token for `scope` from Berth's token endpoint (its policy grants it). */
async function fetchToken(base: string, scope: string): Promise<string> {
  const reply = await request(`${base}/auth/token?service=berth&scope=${encodeURIComponent(scope)}`, { method: "GET" });
  if (reply.status !== 200) throw new Error(`GET /auth/token: ${reply.status}`);
  return (JSON.parse(reply.body.toString("utf8")) as { token: string }).token;
}
