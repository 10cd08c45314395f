// npm run bench [-- --quick] [--runs N] [--servers berth-node,berth-deno,distribution]
// (opt-in variants on Node: berth-node-ops, access log as JSON and /metrics scraped each second;
//  berth-node-hook, a live webhook receiver for every event; berth-node-deadhook, a receiver that never answers)
//               [--workloads 1,2,3,4,5,6,7,8,9] [--size-mib N] [--priority=-10] [--tmp DIR] [--out FILE] [--cpu-prof]
// Benchmarks Berth against the reference registry (CNCF distribution), interleaved on the
// same machine, prints figures, ratios and PASS/FAIL per target, and saves JSON under
// bench/results/. Exits non-zero when any request failed, or with REQUIRE_CLIENTS set when a
// workload or server was skipped (never for a missed target).
import { availableParallelism, cpus, loadavg, setPriority, tmpdir } from "node:os";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { machineTicks, stealPercent } from "./lib/cpu.ts";
import { BlobFactory, GiB, MiB, measureSha256 } from "./lib/data.ts";
import { measureDiskWrite } from "./lib/disk.ts";
import { agent } from "./lib/http.ts";
import { loadTool } from "./lib/loadgen.ts";
import { clientSelfCheck } from "./lib/selfcheck.ts";
import { MemoryCgroup } from "./lib/memory-cgroup.ts";
import { killAll, logPath, SERVER_KINDS, type RunningServer, type ServerKind } from "./lib/servers.ts";
import { evaluateTargets, medians, renderTable, renderTargets, type Samples } from "./lib/table.ts";
import { type Context, type Figures, measurePushRss, type Sizes, warmUp, WORKLOADS } from "./lib/workloads.ts";

// Workload 4's window is 8 s after a 4 s burst: Berth on Node is steady after ~2 s, Deno after
// ~4 s, and three runs each gave 10,428 / 8,984 / 1,946 req/s (Node, Deno, distribution) against
// 9,994 / 8,839 / 1,903 with 10 s after 5 s, 30 s less of a full run.
const FULL: Sizes = {
  block: 64 * MiB, push: 1 * GiB, range: 100 * MiB, manifestSeconds: 8, connections: 32,
  concurrentPushes: 16, concurrentBlob: 64 * MiB, rss: [1 * GiB, 4 * GiB], skopeo: 256 * MiB, runs: 3, mixedSeconds: 60, mixedClients: 8,
  steadyPush: 0, cgroupLimit: 0, // set below from the push size
};
const QUICK: Sizes = {
  block: 8 * MiB, push: 32 * MiB, range: 8 * MiB, manifestSeconds: 1, connections: 32,
  concurrentPushes: 16, concurrentBlob: 2 * MiB, rss: [16 * MiB, 64 * MiB], skopeo: 8 * MiB, runs: 2, mixedSeconds: 5, mixedClients: 8,
  steadyPush: 0, cgroupLimit: 0,
};

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    servers: { type: "string" },
    workloads: { type: "string" },
    tmp: { type: "string" },
    out: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    priority: { type: "string" },
    "size-mib": { type: "string" },
    "mixed-seconds": { type: "string" },
    "manifest-seconds": { type: "string" },
  },
});

const repoDir = path.resolve(import.meta.dirname, "..");
const mode = args.quick ? "quick" : "full";
const sizes: Sizes = { ...(args.quick ? QUICK : FULL) };
if (args.runs) sizes.runs = Math.max(1, Number(args.runs));
if (args["size-mib"]) sizes.push = Number(args["size-mib"]) * MiB;
/** A count of seconds from the command line; anything else stops the run, naming the option. */
function secondsOption(option: string): number {
  const text = String(args[option as keyof typeof args]);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${option} wants a whole number of seconds (1 or more), not ${text}`);
  return value;
}
if (args["mixed-seconds"]) sizes.mixedSeconds = secondsOption("mixed-seconds");
if (args["manifest-seconds"]) sizes.manifestSeconds = secondsOption("manifest-seconds");
sizes.range = Math.min(sizes.range, sizes.push / 2);
// Workload 9's cgroup: big enough that workloads 1, 2 and 5 (their blobs, the warm-up's, the
// server's own memory) write into free memory as without it; workload 9 tops it up to full.
sizes.steadyPush = sizes.push / 2;
sizes.cgroupLimit = 2 * sizes.push + sizes.concurrentPushes * sizes.concurrentBlob + 768 * MiB;
const wanted = args.workloads?.split(",") ?? ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
const cores = availableParallelism();
const log = (s: string) => process.stdout.write(s + "\n");

interface BenchError { server: string; workload: string; run: number; message: string }
const errors: BenchError[] = [];
const samples: Samples = {};
/** Wall seconds each workload took over all servers and runs (workload 6 with its own start-ups), the runs' start-ups and warm-ups as "start": where a full run's time goes. */
const phaseSeconds: Record<string, number> = {};
const addPhase = (phase: string, since: number) => void (phaseSeconds[phase] = (phaseSeconds[phase] ?? 0) + (performance.now() - since) / 1000);
const record = (server: string, figs: Figures) => {
  for (const [k, v] of Object.entries(figs)) ((samples[server] ??= {})[k] ??= []).push(v);
};

// --- which servers -------------------------------------------------------------------
const unavailable: Record<string, string> = {};
const kinds: ServerKind[] = SERVER_KINDS.filter((k) => (args.servers ? args.servers.split(",").includes(k.name) : !k.optIn)).filter((k) => {
  const why = k.unavailable(repoDir);
  if (why) unavailable[k.name] = why;
  return !why;
});
const reference = kinds.find((k) => k.reference)?.name;
const names = kinds.map((k) => k.name);
if (!kinds.length) {
  log(`no server can run: ${JSON.stringify(unavailable)}`);
  process.exit(1);
}

// --- scratch space -------------------------------------------------------------------
const tmpBase = args.tmp ?? tmpdir();
mkdirSync(tmpBase, { recursive: true });
const tmp = mkdtempSync(path.join(tmpBase, "berth-bench-"));
/** Workload 9: each pushing server's memory cgroup in the current run. */
const cgroups = new Map<RunningServer, MemoryCgroup>();
const cleanup = () => {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
  for (const cgroup of cgroups.values()) try { cgroup.remove(); } catch { /* a process still exiting: left behind, empty */ }
};
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => { cleanup(); process.exit(130); });
const disk = statfsSync(tmp);
const freeGiB = (disk.bavail * disk.bsize) / GiB;
const needGiB = (kinds.length * (5 * sizes.push + sizes.concurrentPushes * sizes.concurrentBlob + 3 * sizes.skopeo) + Math.max(...sizes.rss)) / GiB + 1;
if (freeGiB < needGiB) {
  log(`not enough disk under ${tmpBase}: ${freeGiB.toFixed(1)} GiB free, need about ${needGiB.toFixed(1)} GiB`);
  cleanup();
  process.exit(1);
}

// --priority -10 (root): the harness and the servers get ahead of other work on a shared machine.
const priority = args.priority === undefined ? undefined : Number(args.priority);
if (priority !== undefined) setPriority(priority);
const nodeFlags = args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${path.join(repoDir, "bench", "results", "profiles")}`] : [];
let serial = 0;
async function start(kind: ServerKind, label: string): Promise<RunningServer> {
  const root = path.join(tmp, `${kind.name}-${label}-${++serial}`);
  mkdirSync(root, { recursive: true });
  const logFile = logPath(tmp, kind.name, `${label}-${serial}`);
  return kind.start(root, { repoDir, logFile, nodeFlags: kind.name.startsWith("berth-node") ? nodeFlags : [], priority });
}
async function stopAndWipe(servers: RunningServer[]): Promise<void> {
  for (const s of servers) await s.stop();
  for (const s of servers) {
    try {
      cgroups.get(s)?.remove();
    } catch (e) {
      log(`warning: memory cgroup of ${s.kind} not removed: ${String(e)}`);
    }
    cgroups.delete(s);
  }
  for (const d of readdirSync(tmp)) {
    if (/^(berth|distribution)/.test(d) && !d.endsWith(".log")) rmSync(path.join(tmp, d), { recursive: true, force: true });
  }
}

async function attempt(server: string, workload: string, run: number, fn: () => Promise<Figures>): Promise<void> {
  const since = performance.now();
  try {
    const figs = await fn();
    record(server, figs);
    const shown = Object.entries(figs).map(([k, v]) => `${k}=${v.toFixed(1)}`).join(" ");
    log(`  run ${run}  ${server.padEnd(12)}  w${workload}  ${shown}`);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    errors.push({ server, workload, run, message });
    log(`  run ${run}  ${server.padEnd(12)}  w${workload}  ERROR ${message}`);
  } finally {
    addPhase(workload, since);
  }
}

// --- the run -------------------------------------------------------------------------
const t0 = performance.now();
const ticksAtStart = machineTicks();
const factory = new BlobFactory(sizes.block);
const sha256 = measureSha256(args.quick ? 128 * MiB : 512 * MiB, factory.block);
const client = await clientSelfCheck(factory, args.quick ? 128 * MiB : 1 * GiB, tmp);
const diskWrite = measureDiskWrite(tmp, args.quick ? 128 * MiB : 1 * GiB, factory.block);
log(`Berth benchmark (${mode}) - ${cores} cores (${cpus()[0]?.model.trim()}), node ${process.version}, load tool ${loadTool()}`);
const load = loadavg()[0];
log(`load average ${load.toFixed(2)}${priority !== undefined ? `, priority ${priority}` : ""}; one-core SHA-256 (node:crypto): ${sha256.toFixed(0)} MB/s`);
log(`page-cache write of a new file (1 MiB writes, no fsync): ${diskWrite.MBps.toFixed(0)} MB/s, ${diskWrite.sys_s_per_GiB.toFixed(2)} kernel CPU-s per GiB; into just-freed pages ${diskWrite.recycled.MBps.toFixed(0)} MB/s, ${diskWrite.recycled.sys_s_per_GiB.toFixed(2)}`);
if (load > cores / 2) log(`warning: the machine is busy (load ${load.toFixed(1)} on ${cores} cores): figures are noisy`);
log(`client self-check against a Node sink: send ${client.send_MBps.toFixed(0)} MB/s, receive ${client.receive_MBps.toFixed(0)} MB/s; ` +
  `per client CPU-second: send ${client.send_capacity_MBps.toFixed(0)} MB, receive ${client.receive_capacity_MBps.toFixed(0)} MB`);
if (Math.min(client.send_capacity_MBps, client.receive_capacity_MBps) < 1500) log("warning: the client needs more than a core for 1500 MB/s and may cap the throughput figures");
log(`servers: ${names.join(", ")}${Object.keys(unavailable).length ? `; skipped: ${Object.entries(unavailable).map(([k, v]) => `${k} (${v})`).join(", ")}` : ""}`);

const ctx: Context = { factory, sizes, tmp, cores, pushed: new Map(), cgroups };
const skipped: Record<string, string> = {};
const active = WORKLOADS.filter((w) => wanted.includes(w.id)).filter((w) => {
  const why = w.unavailable?.();
  if (why) skipped[w.id] = why;
  return !why;
});
for (const [id, why] of Object.entries(skipped)) log(`workload ${id} skipped: ${why}`);

/** A server that runs workload 9 starts each run in a memory cgroup of its own. */
const runsSteadyPushes = (k: ServerKind) => active.some((w) => w.id === "9") && (!k.workloads || k.workloads.includes("9"));

for (let run = 1; run <= sizes.runs && active.length; run++) {
  const order = run % 2 ? kinds : [...kinds].reverse(); // alternate who goes first
  const servers: RunningServer[] = [];
  let current = "?";
  try {
    for (const k of order) {
      current = k.name;
      const t = performance.now();
      const s = await start(k, `run${run}`);
      servers.push(s);
      // Spawn until the first answer to GET /v2/ (polled every 5 ms), and RSS right after it.
      // Summed over the process tree: a server of several processes (--workers) holds all of it.
      record(k.name, { startup_s: (performance.now() - t) / 1000, idle_rss_MiB: s.memory().treeRss / MiB });
      if (runsSteadyPushes(k)) {
        const cgroup = MemoryCgroup.create(`berth-bench-${process.pid}-${serial}`, sizes.cgroupLimit);
        cgroups.set(s, cgroup);
        cgroup.addTree(s.pid); // from its first answer on: warm-up and all
      }
      await warmUp(s, k, ctx);
      addPhase("start", t);
    }
  } catch (e) {
    errors.push({ server: current, workload: "start+warm-up", run, message: String(e) });
    log(`  run ${run}  ERROR starting servers: ${String(e)}`);
    await stopAndWipe(servers);
    continue;
  }
  ctx.pushed.clear();
  for (const w of active) {
    if (w.once && run > 1) continue;
    for (const s of servers) {
      const only = kinds.find((k) => k.name === s.kind)?.workloads;
      if (!only || only.includes(w.id)) await attempt(s.kind, w.id, run, () => w.run(s, ctx, run));
    }
  }
  await stopAndWipe(servers);
}

if (wanted.includes("6")) {
  for (const size of sizes.rss) {
    for (const k of kinds.filter((kind) => !kind.workloads || kind.workloads.includes("6"))) {
      let s: RunningServer | undefined;
      await attempt(k.name, "6", 1, async () => {
        s = await start(k, `rss${size / MiB}`);
        return measurePushRss(s, ctx, size);
      });
      if (s) await stopAndWipe([s]);
    }
  }
}
agent.destroy();

// --- report --------------------------------------------------------------------------
const m = medians(samples);
const errorsBy: Record<string, number> = {};
for (const e of errors) errorsBy[e.server] = (errorsBy[e.server] ?? 0) + 1;
const targets = evaluateTargets(m, names, reference, sha256, sizes, errorsBy);
const seconds = (performance.now() - t0) / 1000;
log("");
log(`medians of ${sizes.runs} run(s); MB/s = 10^6 bytes/s; ratios = Berth / ${reference ?? "(no reference)"}; ${seconds.toFixed(0)} s total`);
const steal = stealPercent(ticksAtStart, machineTicks());
log(`CPU time the hypervisor gave to other guests during the run (steal): ${steal.toFixed(1)}%${steal > 5 ? " (a busy host: compare ratios within this run only)" : ""}`);
log(`seconds by workload: ${Object.entries(phaseSeconds).map(([w, s]) => `${w === "start" ? "start-ups and warm-ups" : `w${w}`} ${s.toFixed(0)}`).join(", ")}`);
log(renderTable(m, names, reference, sizes, sizes.connections));
log("");
log(renderTargets(targets));
for (const e of errors) log(`error: ${e.server} workload ${e.workload} run ${e.run}: ${e.message}`);

const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
const out = args.out ?? path.join(repoDir, "bench", "results", mode === "quick" ? "quick-latest.json" : `full-${stamp}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({
  date: new Date().toISOString(), mode, seconds, cores, cpu: cpus()[0]?.model.trim(), node: process.version,
  loadavg: { start: load, end: loadavg()[0] }, steal_pct: steal, priority,
  sha256_MBps: sha256, disk_write: diskWrite, client, loadTool: loadTool(), sizes, servers: names, reference, unavailable, skipped,
  medians: m, samples, targets, errors, phaseSeconds,
}, null, 2) + "\n");
log(`results: ${path.relative(process.cwd(), out)}`);
if (errors.length) {
  // Keep the servers' output for diagnosis (*.tmp is git-ignored under bench/results).
  const logs = path.join(repoDir, "bench", "results", `logs-${stamp}.tmp`);
  mkdirSync(logs, { recursive: true });
  for (const f of readdirSync(tmp)) if (f.endsWith(".log")) copyFileSync(path.join(tmp, f), path.join(logs, f));
  log(`server logs: ${path.relative(process.cwd(), logs)}`);
}
// CI sets REQUIRE_CLIENTS: there a workload or server that could not run (no skopeo, no deno, no
// memory cgroups) fails the run instead of leaving a gap in the table.
const missing = [...Object.entries(skipped).map(([id, why]) => `workload ${id}: ${why}`), ...Object.entries(unavailable).map(([k, why]) => `${k}: ${why}`)];
if (process.env.REQUIRE_CLIENTS && missing.length) log(`REQUIRE_CLIENTS is set and some of the bench could not run: ${missing.join("; ")}`);
cleanup();
process.exit(errors.length || (process.env.REQUIRE_CLIENTS && missing.length) ? 1 : 0);
