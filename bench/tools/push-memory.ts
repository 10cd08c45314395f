// Where a push's memory goes: `npx tsx bench/tools/push-memory.ts [--size-mib 1024] [--style patch|put|both]
// [--trace-gc] [--node-flag=--max-semi-space-size=1]`. Starts `berth serve` (dist/, so run
// `npm run build` first) with bench/tools/memory-sampler.mjs preloaded, pushes one blob per style,
// and prints the peak of rss, heapTotal, heapUsed, external and arrayBuffers, the fields at the
// rss peak, and VmHWM. With --trace-gc, counts the server's scavenges and mark-compacts.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { BlobFactory, MiB } from "../lib/data.ts";
import { agent } from "../lib/http.ts";
import { pushMonolithic, pushStreamed } from "../lib/registry.ts";
import { SERVER_KINDS } from "../lib/servers.ts";

const { values: args } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "1024" },
    style: { type: "string", default: "patch" },
    "trace-gc": { type: "boolean", default: false },
    "node-flag": { type: "string", multiple: true, default: [] },
    repo: { type: "string" }, // another checkout's built Berth, for a before/after comparison
    repeat: { type: "string", default: "1" },
  },
});
const repoDir = path.resolve(args.repo ?? path.join(import.meta.dirname, "../.."));
const tmp = mkdtempSync(path.join(tmpdir(), "berth-pushmem-"));
const samples = path.join(tmp, "samples.json");
process.env.BERTH_MEM_SAMPLES = samples;
const nodeFlags = [`--import=${path.join(import.meta.dirname, "memory-sampler.mjs")}`, ...args["node-flag"]];
if (args["trace-gc"]) nodeFlags.push("--trace-gc");
const kind = SERVER_KINDS.find((k) => k.name === "berth-node")!;
const logFile = path.join(tmp, "server.log");
const server = await kind.start(path.join(tmp, "root"), { repoDir, logFile, nodeFlags });
const size = Number(args["size-mib"]) * MiB;
const factory = new BlobFactory(64 * MiB);
const mib = (n: number) => (n / MiB).toFixed(1);
try {
  const styles = args.style === "both" ? ["patch", "put"] : [args.style!];
  for (const style of Array.from({ length: Number(args.repeat) }, () => styles).flat()) {
    const blob = factory.make(size);
    const t0 = performance.now();
    await (style === "put" ? pushMonolithic : pushStreamed)(server.url, "mem/test", blob);
    const s = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 300));
    const m = JSON.parse(readFileSync(samples, "utf8")) as Record<string, Record<string, number>>;
    const show = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${mib(v)}`).join(", ");
    console.log(`${style} ${mib(size)} MiB in ${s.toFixed(2)} s (${(size / 1e6 / s).toFixed(0)} MB/s); VmHWM ${mib(server.memory().hwm)} MiB`);
    console.log(`  peaks (MiB):     ${show(m.peak!)}`);
    console.log(`  at the rss peak: ${show(m.atRssPeak!)}`);
  }
  if (args["trace-gc"]) {
    const text = readFileSync(logFile, "utf8");
    const count = (re: RegExp) => (text.match(re) ?? []).length;
    console.log(`GC: ${count(/Scavenge/g)} scavenges, ${count(/Mark-Compact/g)} mark-compacts`);
    const reasons = new Map<string, number>();
    for (const line of text.split("\n")) {
      const r = /Mark-Compact.*?(?:reason: |; )([^;\]]*)/.exec(line)?.[1];
      if (line.includes("Mark-Compact")) reasons.set(line.replace(/.*\] ?/, "").slice(0, 60), (reasons.get(line.replace(/.*\] ?/, "").slice(0, 60)) ?? 0) + 1);
      void r;
    }
    for (const [k, v] of reasons) console.log(`  ${v} x ${k}`);
  }
} finally {
  await server.stop();
  agent.destroy();
  rmSync(tmp, { recursive: true, force: true });
}
