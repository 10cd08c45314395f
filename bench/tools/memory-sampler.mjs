// Preloaded into a Berth server (`node --import ./bench/tools/memory-sampler.mjs`) by
// bench/tools/push-memory.ts: samples process.memoryUsage() every 20 ms and keeps, per field,
// the peak and the other fields at the moment of the rss peak; writes them as JSON to
// $BERTH_MEM_SAMPLES every 200 ms.
import { writeFileSync } from "node:fs";

const out = process.env.BERTH_MEM_SAMPLES;
if (out) {
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  let atRssPeak = process.memoryUsage();
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
    if (m.rss >= atRssPeak.rss) atRssPeak = m;
  };
  setInterval(sample, 20).unref();
  setInterval(() => writeFileSync(out, JSON.stringify({ peak, atRssPeak, now: process.memoryUsage() })), 200).unref();
}
