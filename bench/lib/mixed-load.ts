// Workload 8: sustained mixed load. `clients` loops, each for `seconds`, picking at random:
// a push of 1 KiB–32 MiB (log-uniform) in one of the three upload styles (one streamed PATCH,
// PUT with the body, OCI chunks with Content-Range), a pull of a blob it pushed, a tag list or
// catalog page, a manifest push, a blob delete. The server's RSS is sampled every 250 ms:
// the figures are RSS before, the peak in each third of the load, and RSS 5 s after it, so a
// bound that holds (the last third no higher than the first two) shows apart from a leak.
import { type Blob, MiB } from "./data.ts";
import { request, expectStatus } from "./http.ts";
import { deleteBlob, pullBlob, pushChunked, pushImage, pushMonolithic, pushStreamed } from "./registry.ts";
import type { RunningServer } from "./servers.ts";
import type { Context, Figures } from "./workloads.ts";

const MIN = 1024;
const MAX = 32 * MiB;
const PUSH_STYLES = [pushStreamed, pushMonolithic, pushChunked] as const;

export async function runMixedLoad(s: RunningServer, ctx: Context, run: number): Promise<Figures> {
  const seconds = ctx.sizes.mixedSeconds;
  const clients = ctx.sizes.mixedClients;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const thirds = [0, 0, 0];
  const before = s.memory().rss;
  const sampler = setInterval(() => {
    const third = Math.min(2, Math.floor(((performance.now() - t0) / 1000 / seconds) * 3));
    thirds[third] = Math.max(thirds[third]!, s.memory().rss);
  }, 250);
  let ops = 0;
  let pushedBytes = 0;
  const client = async (c: number) => {
    const repo = `mixed/r${run}-c${c}`;
    const mine: Blob[] = [];
    for (let i = 0; performance.now() < end; i++) {
      const dice = Math.random();
      if (dice < 0.4 || mine.length === 0) {
        const size = Math.round(MIN * Math.pow(MAX / MIN, Math.random()));
        const blob = ctx.factory.make(size);
        await PUSH_STYLES[i % PUSH_STYLES.length]!(s.url, repo, blob);
        pushedBytes += size;
        mine.push(blob);
      } else if (dice < 0.65) {
        await pullBlob(s.url, repo, mine[Math.floor(Math.random() * mine.length)]!);
      } else if (dice < 0.75) {
        await pushImage(s.url, repo, `t${i % 20}`, ctx.factory.make(1024));
      } else if (dice < 0.9) {
        const path = dice < 0.82 ? `/v2/${repo}/tags/list?n=100` : "/v2/_catalog?n=100";
        const r = await request(`${s.url}${path}`, { method: "GET" });
        // A repository with no tag yet may answer 404 NAME_UNKNOWN on some registries.
        if (r.status !== 404) expectStatus(r, 200, `GET ${path}`);
      } else {
        const blob = mine.splice(Math.floor(Math.random() * mine.length), 1)[0]!;
        await deleteBlob(s.url, repo, blob.digest);
      }
      ops++;
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  } finally {
    clearInterval(sampler);
  }
  const elapsed = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 5000));
  return {
    mixed_ops_per_s: ops / elapsed,
    mixed_push_MBps: pushedBytes / 1e6 / elapsed,
    mixed_rss_before_MiB: before / MiB,
    mixed_rss_peak1_MiB: thirds[0]! / MiB,
    mixed_rss_peak2_MiB: thirds[1]! / MiB,
    mixed_rss_peak3_MiB: thirds[2]! / MiB,
    mixed_rss_after_MiB: s.memory().rss / MiB,
  };
}
