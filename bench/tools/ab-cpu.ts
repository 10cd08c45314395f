// CPU cost per GiB pushed (and pulled), before/after, robust on a busy machine (CPU time, not wall time):
// `npx tsx bench/tools/ab-cpu.ts DIR_A DIR_B [--blob-mib 512] [--rounds 2] [--concurrent 1]
// [--server berth-node|berth-deno] [--pulls]`. Starts `berth serve` (Node, or Deno with
// `--server berth-deno`) from each checkout and reads the server's user and system CPU time
// (/proc/<pid>/stat, all its threads) around each push, alternating checkouts and styles
// (PATCH, PUT with body). With --pulls, each round also pulls the last blob whole and ranged
// (workload 3's shape: the middle 100 MiB, five times).
import { parseArgs } from "node:util";
import { type Blob, BlobFactory, GiB, MiB } from "../lib/data.ts";
import { pullBlob, pushMonolithic, pushStreamed } from "../lib/registry.ts";
import { processCpu as cpu } from "../lib/cpu.ts";
import { startCheckouts } from "./checkouts.ts";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "blob-mib": { type: "string", default: "512" },
    rounds: { type: "string", default: "2" },
    concurrent: { type: "string", default: "1" },
    server: { type: "string", default: "berth-node" },
    pulls: { type: "boolean", default: false },
  },
});
if (args.server !== "berth-node" && args.server !== "berth-deno") throw new Error(`--server: berth-node or berth-deno, not ${args.server}`);
const { servers, stop } = await startCheckouts(positionals, args.server);
const factory = new BlobFactory(64 * MiB);
const size = Number(args["blob-mib"]) * MiB;
const n = Number(args.concurrent);
const RANGE = Math.min(100 * MiB, size); // the middle 100 MiB (the whole blob if smaller)
const RANGED_PULLS = 5;

/** Run `work` (moving `bytes`) against the server with `pid`; print MB/s and CPU-s per GiB. */
async function measure(label: string, pid: number, bytes: number, work: () => Promise<unknown>): Promise<void> {
  const a = cpu(pid);
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const b = cpu(pid);
  const gib = bytes / GiB;
  console.log(`${label}: ${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s wall; CPU-s per GiB user ${((b.user - a.user) / gib).toFixed(2)} sys ${((b.sys - a.sys) / gib).toFixed(2)}; minor page faults per GiB ${((b.faults - a.faults) / gib).toFixed(0)}`);
}

try {
  for (const { s } of servers) await pushStreamed(s.url, "ab/warm", factory.make(128 * MiB));
  for (let round = 0; round < Number(args.rounds); round++) {
    const last = new Map<string, { repo: string; blob: Blob }>();
    for (const [style, push] of [["patch", pushStreamed], ["put", pushMonolithic]] as const) {
      for (const { dir, s } of round % 2 ? [...servers].reverse() : servers) {
        const blobs = Array.from({ length: n }, () => factory.make(size));
        await measure(`${style} x${n} ${dir}`, s.pid, n * size, () => Promise.all(blobs.map((b, i) => push(s.url, `ab/r${round}-${i}`, b))));
        last.set(dir, { repo: `ab/r${round}-0`, blob: blobs[0]! });
      }
    }
    if (!args.pulls) continue;
    for (const { dir, s } of round % 2 ? [...servers].reverse() : servers) {
      const { repo, blob } = last.get(dir)!;
      const start = Math.floor((blob.size - RANGE) / 2);
      await measure(`pull ${dir}`, s.pid, blob.size, () => pullBlob(s.url, repo, blob));
      await measure(`ranged pull x${RANGED_PULLS} ${dir}`, s.pid, RANGED_PULLS * RANGE, async () => {
        for (let i = 0; i < RANGED_PULLS; i++) await pullBlob(s.url, repo, blob, [start, start + RANGE]);
      });
    }
  }
} finally {
  await stop();
}
