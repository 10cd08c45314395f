// Before/after on one machine: `npx tsx bench/tools/ab-concurrent.ts DIR_A DIR_B [--pushes 16] [--blob-mib 64] [--rounds 3]
// [--style patch|put]`. Starts `berth serve` from two built checkouts and times, alternating,
// N concurrent pushes of different blobs on each (workload 5's shape); prints MB/s per round.
import { parseArgs } from "node:util";
import { BlobFactory, MiB } from "../lib/data.ts";
import { pushMonolithic, pushStreamed } from "../lib/registry.ts";
import { startCheckouts } from "./checkouts.ts";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { pushes: { type: "string", default: "16" }, "blob-mib": { type: "string", default: "64" }, rounds: { type: "string", default: "3" }, style: { type: "string", default: "patch" } },
});
const { servers, stop } = await startCheckouts(positionals);
const factory = new BlobFactory(64 * MiB);
const push = args.style === "put" ? pushMonolithic : pushStreamed;
const n = Number(args.pushes);
const size = Number(args["blob-mib"]) * MiB;
try {
  for (const { s } of servers) await push(s.url, "ab/warm", factory.make(64 * MiB));
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const { dir, s } of round % 2 ? [...servers].reverse() : servers) {
      const blobs = Array.from({ length: n }, () => factory.make(size));
      const t0 = performance.now();
      await Promise.all(blobs.map((b, i) => push(s.url, `ab/r${round}-${i}`, b)));
      const ms = performance.now() - t0;
      console.log(`round ${round} ${dir}: ${((n * size) / 1e6 / (ms / 1000)).toFixed(0)} MB/s, VmHWM ${(s.memory().hwm / MiB).toFixed(0)} MiB`);
    }
  }
} finally {
  await stop();
}
