// CPU cost per GiB pushed, before/after, robust on a busy machine (CPU time, not wall time):
// `npx tsx bench/tools/ab-cpu.ts DIR_A DIR_B [--blob-mib 512] [--rounds 2] [--concurrent 1]`. Starts `berth serve`
// from each built checkout and reads the server's user and system CPU time (/proc/<pid>/stat,
// all its threads) around each push, alternating checkouts and styles (PATCH, PUT with body).
import { parseArgs } from "node:util";
import { BlobFactory, GiB, MiB } from "../lib/data.ts";
import { pushMonolithic, pushStreamed } from "../lib/registry.ts";
import { processCpu as cpu } from "../lib/cpu.ts";
import { startCheckouts } from "./checkouts.ts";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { "blob-mib": { type: "string", default: "512" }, rounds: { type: "string", default: "2" }, concurrent: { type: "string", default: "1" } },
});
const { servers, stop } = await startCheckouts(positionals);
const factory = new BlobFactory(64 * MiB);
const size = Number(args["blob-mib"]) * MiB;
const n = Number(args.concurrent);
try {
  for (const { s } of servers) await pushStreamed(s.url, "ab/warm", factory.make(128 * MiB));
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [style, push] of [["patch", pushStreamed], ["put", pushMonolithic]] as const) {
      for (const { dir, s } of round % 2 ? [...servers].reverse() : servers) {
        const blobs = Array.from({ length: n }, () => factory.make(size));
        const a = cpu(s.pid);
        const t0 = performance.now();
        await Promise.all(blobs.map((b, i) => push(s.url, `ab/r${round}-${i}`, b)));
        const ms = performance.now() - t0;
        const b = cpu(s.pid);
        const gib = (n * size) / GiB;
        console.log(`${style} x${n} ${dir}: ${((n * size) / 1e6 / (ms / 1000)).toFixed(0)} MB/s wall; CPU-s per GiB user ${((b.user - a.user) / gib).toFixed(2)} sys ${((b.sys - a.sys) / gib).toFixed(2)}; minor page faults per GiB ${((b.faults - a.faults) / gib).toFixed(0)}`);
      }
    }
  }
} finally {
  await stop();
}
