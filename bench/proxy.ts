// npm run bench:proxy [-- --quick] [--runs N] [--size-mib N] [--tmp DIR]
// The pull-through cache: a first (miss) pull of a blob through Berth (`--upstream` pointing at
// distribution) versus pulling it straight from distribution, and a second (hit) pull versus
// the same blob pulled from a plain Berth. Same client (raw-socket GET, bytes checked), same
// machine, medians over runs. Targets (issue 14): miss within 10% of direct; hit as fast as
// a normal pull (within 5%). Missed targets print FAIL but do not fail the run.
import { execSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { BlobFactory, MiB } from "./lib/data.ts";
import { request } from "./lib/http.ts";
import { pullBlob, pushStreamed } from "./lib/registry.ts";
import { killAll, SERVER_KINDS, startProcess, type RunningServer } from "./lib/servers.ts";

const { values: args } = parseArgs({
  options: { quick: { type: "boolean", default: false }, runs: { type: "string" }, "size-mib": { type: "string" }, tmp: { type: "string" } },
});
const size = (args["size-mib"] ? Number(args["size-mib"]) : args.quick ? 64 : 1024) * MiB;
const runs = args.runs ? Number(args.runs) : args.quick ? 2 : 3;
const repoDir = path.resolve(import.meta.dirname, "..");
const tmp = mkdtempSync(path.join(args.tmp ?? tmpdir(), "berth-bench-proxy-"));
const log = (s: string) => process.stdout.write(`${s}\n`);
const options = (label: string) => ({ repoDir, logFile: path.join(tmp, `${label}.log`), nodeFlags: [] });

const servers: RunningServer[] = [];
try {
  const distribution = SERVER_KINDS.find((k) => k.name === "distribution")!;
  const why = distribution.unavailable(repoDir);
  if (why) throw new Error(why);
  const upstream = await distribution.start(path.join(tmp, "upstream"), options("distribution"));
  servers.push(upstream);
  const berth = (label: string, extra: string[]) =>
    startProcess(label, process.execPath, ["bin/berth.mjs", "serve", "--root", path.join(tmp, label), "--host", "127.0.0.1", "--port", "0", ...extra], options(label), { announce: /listening on (http:\/\/[^\s]+)/ });
  const cache = await berth("berth-cache", ["--upstream", upstream.url]);
  const plain = await berth("berth-plain", []);
  servers.push(cache, plain);

  const factory = new BlobFactory(Math.min(size, 64 * MiB));
  const figures: Record<string, number[]> = { direct: [], miss: [], hit: [], normal: [] };
  const timePull = async (base: string, repo: string, blob: ReturnType<BlobFactory["make"]>) => {
    execSync("sync");
    const started = performance.now();
    await pullBlob(base, repo, blob);
    return size / 1e6 / ((performance.now() - started) / 1000);
  };
  log(`pull-through bench: ${size / MiB} MiB blob, ${runs} runs (MB/s = 10^6 bytes/s)`);
  for (let run = 0; run < runs + 1; run++) {
    const blob = factory.make(size);
    const repo = `bench/proxy-${run}`;
    await pushStreamed(upstream.url, repo, blob);
    await pushStreamed(plain.url, repo, blob);
    // Miss first (the upstream's copy is as warm as it will be for the direct pull after it).
    const miss = await timePull(cache.url, repo, blob);
    await waitForFill(cache.url, repo, blob.digest);
    const direct = await timePull(upstream.url, repo, blob);
    // Alternate which of the two store reads goes first, so neither always meets a warmer machine.
    const [hit, normal] = run % 2
      ? [await timePull(cache.url, repo, blob), await timePull(plain.url, repo, blob)]
      : [await timePull(plain.url, repo, blob), await timePull(cache.url, repo, blob)].reverse() as [number, number];
    if (run === 0) continue; // warm-up: JIT, page cache, connections
    log(`run ${run}: direct ${direct.toFixed(0)}  miss ${miss.toFixed(0)}  hit ${hit.toFixed(0)}  normal ${normal.toFixed(0)}`);
    figures.direct!.push(direct);
    figures.miss!.push(miss);
    figures.hit!.push(hit);
    figures.normal!.push(normal);
  }
  const m = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  const missRatio = m.miss! / m.direct!;
  const hitRatio = m.hit! / m.normal!;
  log(`\n| pull | MB/s (median) | vs | ratio | target |`);
  log(`| --- | --- | --- | --- | --- |`);
  log(`| miss through Berth | ${m.miss!.toFixed(0)} | distribution direct ${m.direct!.toFixed(0)} | ${missRatio.toFixed(2)} | >= 0.90 ${missRatio >= 0.9 ? "PASS" : "FAIL"} |`);
  log(`| hit from Berth's cache | ${m.hit!.toFixed(0)} | plain Berth ${m.normal!.toFixed(0)} | ${hitRatio.toFixed(2)} | >= 0.95 ${hitRatio >= 0.95 ? "PASS" : "FAIL"} |`);
} finally {
  for (const server of servers) await server.stop();
  killAll();
  rmSync(tmp, { recursive: true, force: true });
}

/** The miss streamed to the client; the store write may finish a moment later. */
async function waitForFill(base: string, repo: string, digest: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const reply = await request(`${base}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
    if (reply.headers["x-berth-cache"] === "hit") return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the cache fill did not finish");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
