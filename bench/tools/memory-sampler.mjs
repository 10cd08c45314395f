// Preloaded into a Berth server (`node --import ./bench/tools/memory-sampler.mjs`, or through
// NODE_OPTIONS: it only acts in a `serve` process) by bench/tools/push-memory.ts: samples
// process.memoryUsage() every 20 ms and keeps, per field, the peak and all fields at the rss
// peak; writes them, with V8's heap spaces now, as JSON to $BERTH_MEM_SAMPLES every 200 ms.
import { writeFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";

const out = process.env.BERTH_MEM_SAMPLES;
if (out && process.argv.includes("serve")) {
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  let atRssPeak = process.memoryUsage();
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
    if (m.rss >= atRssPeak.rss) atRssPeak = m;
  };
  const spaces = () => Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  setInterval(sample, 20).unref();
  setInterval(() => writeFileSync(out, JSON.stringify({ peak, atRssPeak, now: process.memoryUsage(), spaces: spaces() })), 200).unref();
}
