// npm run bench:proxy [-- --quick] [--runs N] [--size-mib N] [--tmp DIR] [--cpu-prof] [--baseline DIR]
// The pull-through cache: a first (miss) pull of a blob through Berth (`--upstream` pointing at
// distribution) versus pulling it straight from distribution, and a second (hit) pull versus
// the same blob pulled from a plain Berth; and, for reference, a miss through distribution's own
// proxy (`proxy.remoteurl`) of the same upstream. Same client (raw-socket GET, bytes checked), same
// machine, medians over runs. Targets (issue 14): miss within 10% of direct; hit as fast as
// a normal pull (within 5%). Missed targets print FAIL but do not fail the run.
// --cpu-prof: the cache writes .cpuprofile files to bench/results/profiles/ (summarize them with
// bench/tools/profile-summary.ts). --baseline DIR: a second cache from another build (a folder
// with bin/berth.mjs and dist/, e.g. a copy made before a change) pulls the same blob in the
// same runs, so a change is measured side by side on a noisy machine.
import { execSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { processCpu } from "./lib/cpu.ts";
import { BlobFactory, GiB, measureSha256, MiB } from "./lib/data.ts";
import { measureDiskWrite } from "./lib/disk.ts";
import { request } from "./lib/http.ts";
import { pullBlob, pushStreamed } from "./lib/registry.ts";
import { median } from "./lib/table.ts";
import { killAll, SERVER_KINDS, startDistributionProxy, startProcess, type RunningServer } from "./lib/servers.ts";

const { values: args } = parseArgs({
  options: { quick: { type: "boolean", default: false }, runs: { type: "string" }, "size-mib": { type: "string" }, tmp: { type: "string" }, "cpu-prof": { type: "boolean", default: false }, baseline: { type: "string" } },
});
const size = (args["size-mib"] ? Number(args["size-mib"]) : args.quick ? 64 : 1024) * MiB;
const runs = args.runs ? Number(args.runs) : args.quick ? 2 : 3;
const repoDir = path.resolve(import.meta.dirname, "..");
const tmp = mkdtempSync(path.join(args.tmp ?? tmpdir(), "berth-bench-proxy-"));
const log = (s: string) => process.stdout.write(`${s}\n`);
const options = (label: string) => ({ repoDir, logFile: path.join(tmp, `${label}.log`), nodeFlags: [] });
const profileFlags = args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${path.join(repoDir, "bench", "results", "profiles")}`] : [];

const servers: RunningServer[] = [];
try {
  const distribution = SERVER_KINDS.find((k) => k.name === "distribution")!;
  const why = distribution.unavailable(repoDir);
  if (why) throw new Error(why);
  const upstream = await distribution.start(path.join(tmp, "upstream"), options("distribution"));
  servers.push(upstream);
  const berth = (label: string, extra: string[], build = repoDir, flags: string[] = []) =>
    startProcess(label, process.execPath, [...flags, path.join(build, "bin/berth.mjs"), "serve", "--root", path.join(tmp, label), "--host", "127.0.0.1", "--port", "0", ...extra], options(label), { announce: /listening on (http:\/\/[^\s]+)/ });
  const cache = await berth("berth-cache", ["--upstream", upstream.url], repoDir, profileFlags);
  const plain = await berth("berth-plain", []);
  servers.push(cache, plain);
  // The reference doing the same job: distribution's own pull-through cache of the same upstream.
  const distributionProxy = await startDistributionProxy(path.join(tmp, "distribution-proxy"), options("distribution-proxy"), upstream.url);
  servers.push(distributionProxy);
  const baseline = args.baseline ? await berth("berth-baseline", ["--upstream", upstream.url], path.resolve(args.baseline)) : undefined;
  if (baseline) servers.push(baseline);

  const factory = new BlobFactory(Math.min(size, 64 * MiB));
  const figures = new Map<string, { mbs: number[]; cpu: number[]; upstreamCpu: number[] }>();
  const gib = size / GiB;
  /**
   * One timed pull: MB/s as the client saw it; CPU-s per GiB of the serving process, for a
   * miss over the whole job (until the blob is stored: Berth's fill, distribution's own
   * second fetch, may end after the client's last byte) and of the upstream meanwhile.
   */
  const timePull = async (label: string, server: RunningServer, repo: string, blob: ReturnType<BlobFactory["make"]>, miss: boolean) => {
    execSync("sync");
    const [before, upstreamBefore] = [cpuSeconds(server.pid), cpuSeconds(upstream.pid)];
    const started = performance.now();
    await pullBlob(server.url, repo, blob);
    const mbs = size / 1e6 / ((performance.now() - started) / 1000);
    if (miss && server !== distributionProxy) await waitForFill(server.url, repo, blob.digest);
    if (miss) await waitForIdle(server.pid);
    const cpu = (cpuSeconds(server.pid) - before) / gib;
    const upstreamCpu = miss ? (cpuSeconds(upstream.pid) - upstreamBefore) / gib : NaN;
    const entry = figures.get(label) ?? { mbs: [], cpu: [], upstreamCpu: [] };
    figures.set(label, entry);
    return { mbs, cpu, upstreamCpu, keep: () => (entry.mbs.push(mbs), entry.cpu.push(cpu), entry.upstreamCpu.push(upstreamCpu)) };
  };
  // A miss hashes every byte and writes it through the page cache; the direct pull does neither.
  const sha = measureSha256(Math.min(size, 256 * MiB), factory.block);
  const disk = measureDiskWrite(tmp, Math.min(size, 256 * MiB), factory.block);
  log(`pull-through bench: ${size / MiB} MiB blob, ${runs} runs (MB/s = 10^6 bytes/s; cpu = CPU-s/GiB of the serving process; for a miss until the blob is stored, and up = the upstream's)`);
  log(`load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${cpus().length} cores; bounds of a miss: one-core SHA-256 ${sha.toFixed(0)} MB/s, page-cache write of a new file ${disk.MBps.toFixed(0)} MB/s (${disk.sys_s_per_GiB.toFixed(2)} kernel CPU-s/GiB; into just-freed pages ${disk.recycled.MBps.toFixed(0)} MB/s, ${disk.recycled.sys_s_per_GiB.toFixed(2)})`);
  for (let run = 0; run < runs + 1; run++) {
    const blob = factory.make(size);
    const repo = `bench/proxy-${run}`;
    await pushStreamed(upstream.url, repo, blob);
    await pushStreamed(plain.url, repo, blob);
    const pulls: Awaited<ReturnType<typeof timePull>>[] = [];
    const labels: string[] = [];
    const pull = async (label: string, server: RunningServer) => {
      labels.push(label);
      pulls.push(await timePull(label, server, repo, blob, label.endsWith("miss")));
    };
    // Misses first (the upstream's copy is as warm as it will be for the direct pull after
    // them); the caches take turns at going first, and so do the two store reads.
    const caches: [string, RunningServer][] = [["", cache], ["distribution ", distributionProxy], ...(baseline ? [["baseline ", baseline] as [string, RunningServer]] : [])];
    for (const [prefix, server] of run % 2 ? [...caches].reverse() : caches) await pull(`${prefix}miss`, server);
    await pull("direct", upstream);
    const reads: [string, RunningServer][] = [["hit", cache], ["normal", plain], ...(baseline ? [["baseline hit", baseline] as [string, RunningServer]] : [])];
    for (const [label, server] of run % 2 ? reads : [...reads].reverse()) await pull(label, server);
    if (run === 0) continue; // warm-up: JIT, page cache, connections
    for (const p of pulls) p.keep();
    log(`run ${run}: ${labels.map((label, i) => `${label} ${pulls[i]!.mbs.toFixed(0)} (cpu ${pulls[i]!.cpu.toFixed(2)}${Number.isNaN(pulls[i]!.upstreamCpu) ? "" : ` up ${pulls[i]!.upstreamCpu.toFixed(2)}`})`).join("  ")}`);
  }
  const med = (label: string) => ({ mbs: median(figures.get(label)!.mbs), cpu: median(figures.get(label)!.cpu), upstreamCpu: median(figures.get(label)!.upstreamCpu) });
  const [miss, direct, hit, normal] = ["miss", "direct", "hit", "normal"].map(med) as [ReturnType<typeof med>, ReturnType<typeof med>, ReturnType<typeof med>, ReturnType<typeof med>];
  const distributionMiss = med("distribution miss");
  const missRatio = miss.mbs / direct.mbs;
  const hitRatio = hit.mbs / normal.mbs;
  log(`\n| pull | MB/s (median) | CPU-s/GiB | vs | ratio | target |`);
  log(`| --- | --- | --- | --- | --- | --- |`);
  log(`| miss through Berth | ${miss.mbs.toFixed(0)} | ${miss.cpu.toFixed(2)} | distribution direct ${direct.mbs.toFixed(0)} (${direct.cpu.toFixed(2)}) | ${missRatio.toFixed(2)} | >= 0.90 ${missRatio >= 0.9 ? "PASS" : "FAIL"} |`);
  log(`| miss through distribution's proxy | ${distributionMiss.mbs.toFixed(0)} | ${distributionMiss.cpu.toFixed(2)} | distribution direct | ${(distributionMiss.mbs / direct.mbs).toFixed(2)} | (reference) |`);
  log(`| hit from Berth's cache | ${hit.mbs.toFixed(0)} | ${hit.cpu.toFixed(2)} | plain Berth ${normal.mbs.toFixed(0)} (${normal.cpu.toFixed(2)}) | ${hitRatio.toFixed(2)} | >= 0.95 ${hitRatio >= 0.95 ? "PASS" : "FAIL"} |`);
  log(`Berth's miss is ${(miss.mbs / distributionMiss.mbs).toFixed(2)}x distribution's proxy miss, at ${(miss.cpu / distributionMiss.cpu).toFixed(2)}x its CPU per byte (until stored); the upstream spent ${miss.upstreamCpu.toFixed(2)} CPU-s/GiB on Berth's miss and ${distributionMiss.upstreamCpu.toFixed(2)} on distribution's (which fetches a missed blob twice: once for the client, once to store).`);
  log(`load average at the end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  if (baseline) {
    const [baseMiss, baseHit] = [med("baseline miss"), med("baseline hit")];
  log(`\nbaseline (${args.baseline}): miss ${baseMiss.mbs.toFixed(0)} MB/s, ${baseMiss.cpu.toFixed(2)} CPU-s/GiB (this build ${(miss.mbs / baseMiss.mbs).toFixed(2)}x the speed); hit ${baseHit.mbs.toFixed(0)} MB/s, ${baseHit.cpu.toFixed(2)} CPU-s/GiB (this build ${(hit.mbs / baseHit.mbs).toFixed(2)}x)`);
  }
} finally {
  for (const server of servers) await server.stop();
  killAll();
  rmSync(tmp, { recursive: true, force: true });
}

/** Until process `pid` has used no CPU for 0.5 s (at most 60 s): a cache's store write has ended. */
async function waitForIdle(pid: number): Promise<void> {
  let last = cpuSeconds(pid);
  for (let quiet = 0, i = 0; quiet < 2 && i < 240; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpuSeconds(pid);
    quiet = now - last < 0.02 ? quiet + 1 : 0;
    last = now;
  }
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


function cpuSeconds(pid: number): number {
  const { user, sys } = processCpu(pid);
  return user + sys;
}
