// Server launchers. Each kind knows how to start one registry on 127.0.0.1 with a fresh
// filesystem root and how to tell when it is ready; all are stopped by pid (SIGTERM).
// Processes start through test/lib/daemon.ts, Berth's command line comes from
// test/lib/berth-command.ts: the same as the HTTP suite's targets and the e2e launchers.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { berthServeCommand, denoBinary, LISTENING, REPO_ROOT } from "../../test/lib/berth-command.ts";
import { processCpu } from "./cpu.ts";
import { descendants, freePort, startDaemon, type Daemon } from "../../test/lib/daemon.ts";
import { request } from "./http.ts";

export { freePort };

export interface RunningServer {
  kind: string;
  /** Token auth is on: workload 4 fetches a token and sends it on every request. */
  tokenAuth?: boolean;
  url: string; // http://127.0.0.1:PORT
  pid: number;
  /** VmHWM / VmRSS in bytes of the server process, and summed over its process tree
   *  (`--workers`: the primary and its workers). */
  memory(): Memory;
  stop(): Promise<void>;
}

export interface Memory { hwm: number; rss: number; treeHwm: number; treeRss: number }

export interface ServerKind {
  name: string;
  /** The reference the others are compared with. */
  reference?: boolean;
  /** Runs only when named in --servers (variants that answer one question). */
  optIn?: boolean;
  /** Only these workloads run on it (default: all). */
  workloads?: string[];
  /** Compiled ahead of time (Go): no JIT to warm up, so a short manifest burst does (workloads.ts warmUp). */
  aheadOfTime?: boolean;
  /** null when it can run here, else why not. */
  unavailable(repoDir: string): string | null;
  start(root: string, opts: StartOptions): Promise<RunningServer>;
}

export interface StartOptions {
  repoDir: string; // the Berth checkout
  logFile: string;
  nodeFlags: string[]; // e.g. ["--cpu-prof", "--cpu-prof-dir=..."] for Berth on Node
  priority?: number; // nice value for the server (all its threads), via `nice -n`
}

/** Berth on `runtime` as users run it (Deno: the real executable, least-privilege permissions). */
function startBerth(kind: string, runtime: "node" | "deno", root: string, o: StartOptions, extraArgs: string[] = [], quiet = true): Promise<RunningServer> {
  const { cmd, args, env } = berthServeCommand(runtime, { root, nodeFlags: o.nodeFlags, quiet, extraArgs });
  // Another checkout's Berth (bench/tools/push-memory.ts --repo, a before/after comparison):
  // its bin/berth.mjs, or its runtimes/deno/main.ts and deno.json.
  const own = [path.join(REPO_ROOT, "bin/berth.mjs"), path.join(REPO_ROOT, "runtimes/deno/main.ts"), path.join(REPO_ROOT, "runtimes/deno/deno.json")];
  const theirs = (a: string) => (own.includes(a) ? path.join(o.repoDir, path.relative(REPO_ROOT, a)) : a);
  return startProcess(kind, cmd, args.map(theirs), o, { announce: LISTENING }, env);
}

/** htpasswd + a policy that lets anyone do anything (so the warm-up pushes need no login); workload 4 logs in. */
function tokenAuthFlags(root: string): string[] {
  writeFileSync(`${root}.htpasswd`, "bench:$2b$04$vlGKzKX/Ncw/IpAVYa3/5.i3Cthw/KYE/zOa9iGSMhhidocQKRS2C\n");
  writeFileSync(`${root}.policy.yaml`, 'rules:\n  - repositories: ["**"]\n    anonymous: true\n    actions: ["*"]\n');
  return ["--htpasswd", `${root}.htpasswd`, "--policy", `${root}.policy.yaml`, "--token-lifetime", "2h"];
}

export const SERVER_KINDS: ServerKind[] = [
  {
    name: "berth-node",
    unavailable: (dir) => (existsSync(path.join(dir, "bin/berth.mjs")) ? null : "bin/berth.mjs not found"),
    start: (root, o) => startBerth("berth-node", "node", root, o),
  },
  {
    // Berth on Node with token auth (tokenAuthFlags): workload 4 sends a Bearer token on every
    // request, beside berth-node it shows what token checks cost. Only workload 4: a push is
    // one token check per request, and the auth modules' memory shows in idle RSS.
    name: "berth-node-token",
    workloads: ["4"],
    unavailable: (dir) => (existsSync(path.join(dir, "bin/berth.mjs")) ? null : "bin/berth.mjs not found"),
    start: async (root, o) => ({ ...(await startBerth("berth-node-token", "node", root, o, tokenAuthFlags(root))), tokenAuth: true }),
  },
  {
    name: "berth-deno",
    unavailable: (dir) =>
      !denoBinary() ? "no deno executable (npm ci installs one; or set DENO_BIN)"
        : existsSync(path.join(dir, "runtimes/deno/main.ts")) ? null : "runtimes/deno/main.ts not found",
    start: (root, o) => startBerth("berth-deno", "deno", root, o),
  },
  {
    // Berth on Node as operated: the access log on, as JSON, into the log file, and /metrics
    // scraped every second (counting is always on; plain berth-node runs with --quiet).
    name: "berth-node-ops",
    optIn: true,
    workloads: ["1", "2", "4", "5"],
    unavailable: (dir) => (existsSync(path.join(dir, "bin/berth.mjs")) ? null : "bin/berth.mjs not found"),
    start: async (root, o) => {
      const server = await startBerth("berth-node-ops", "node", root, o, ["--log-format", "json"], false);
      const scraper = setInterval(() => void request(`${server.url}/metrics`, { method: "GET" }).catch(() => {}), 1000);
      return { ...server, stop: async () => { clearInterval(scraper); await server.stop(); } };
    },
  },
  {
    // Berth on Node with a live webhook receiver (answers 204 at once) for every event, pulls
    // included: each push, pull and delete of a blob or manifest is one delivery.
    name: "berth-node-hook",
    optIn: true,
    workloads: ["1", "2", "4", "5"],
    unavailable: (dir) => (existsSync(path.join(dir, "bin/berth.mjs")) ? null : "bin/berth.mjs not found"),
    start: async (root, o) => {
      const receiver = await startLiveReceiver();
      const server = await startBerth("berth-node-hook", "node", root, o, ["--webhook", receiver.url, "--webhook-pulls"]);
      return { ...server, stop: async () => { await server.stop(); log(`  berth-node-hook: receiver got ${receiver.count()} events`); await receiver.close(); } };
    },
  },
  {
    // Berth on Node with a webhook whose receiver accepts connections and never answers:
    // pushes must run as fast as berth-node's (delivery is background work with a queue).
    name: "berth-node-deadhook",
    optIn: true,
    workloads: ["1", "2", "4", "5"],
    unavailable: (dir) => (existsSync(path.join(dir, "bin/berth.mjs")) ? null : "bin/berth.mjs not found"),
    start: async (root, o) => {
      const receiver = await startSilentReceiver();
      const url = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/hook`;
      const server = await startBerth("berth-node-deadhook", "node", root, o, ["--webhook", url]);
      return { ...server, stop: async () => { await server.stop(); receiver.close(); } };
    },
  },
  {
    // Berth on Node as one process per core: `--workers 2` (node:cluster). Only where more cores
    // change the answer: manifest GETs and concurrent pushes. Opt-in, for a full run under
    // 10 minutes: berth-node-workers-token shows --workers in the default run.
    name: "berth-node-workers",
    optIn: true,
    workloads: ["4", "5"],
    unavailable: (dir) => (existsSync(path.join(dir, "bin/berth.mjs")) ? null : "bin/berth.mjs not found"),
    start: (root, o) => startBerth("berth-node-workers", "node", root, o, ["--workers", "2"]),
  },
  {
    // Both at once, for the "manifest GET 5x with auth on": `--workers 2` and token auth.
    name: "berth-node-workers-token",
    workloads: ["4"],
    unavailable: (dir) => (existsSync(path.join(dir, "bin/berth.mjs")) ? null : "bin/berth.mjs not found"),
    start: async (root, o) => ({ ...(await startBerth("berth-node-workers-token", "node", root, o, ["--workers", "2", ...tokenAuthFlags(root)])), tokenAuth: true }),
  },
  {
    name: "distribution",
    reference: true,
    aheadOfTime: true,
    unavailable: () => (existsSync("/usr/bin/docker-registry") ? null : "/usr/bin/docker-registry not installed (apt-get install docker-registry)"),
    start: (root, o) => startDistribution("distribution", root, o),
  },
];

/** distribution 2.8 as a pull-through cache of `upstream` (its `proxy.remoteurl`): every repository is mirrored. */
export function startDistributionProxy(root: string, o: StartOptions, upstream: string): Promise<RunningServer> {
  return startDistribution("distribution-proxy", root, o, `proxy:\n  remoteurl: ${upstream}\n`);
}

async function startDistribution(label: string, root: string, o: StartOptions, extraConfig = ""): Promise<RunningServer> {
  const port = await freePort();
  const config = `${root}.yml`;
  writeFileSync(config, distributionConfig(root, port) + extraConfig);
  return startProcess(label, "/usr/bin/docker-registry", ["serve", config], o, { url: `http://127.0.0.1:${port}` });
}

function distributionConfig(root: string, port: number): string {
  return [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${root}`,
    "  delete:",
    "    enabled: true",
    "  cache:",
    "    blobdescriptor: inmemory",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "  secret: berth-bench",
    "",
  ].join("\n");
}

const log = (line: string) => process.stdout.write(`${line}\n`);

/** A webhook receiver that reads each delivery and answers 204; counts the events. */
async function startLiveReceiver(): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  let events = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      events += (JSON.parse(body) as { events: unknown[] }).events.length;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: () => events,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A TCP listener that accepts connections and never answers (a receiver that hangs). */
function startSilentReceiver(): Promise<net.Server> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  const close = server.close.bind(server);
  server.close = (callback?: (error?: Error) => void) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

const live = new Set<Daemon>();
/** Kills servers still running when the harness exits abnormally (by their pids). */
export function killAll(): void {
  for (const d of live) if (!d.exited) try { process.kill(d.pid, "SIGKILL"); } catch { /* gone */ }
}

export async function startProcess(
  kind: string,
  cmd: string,
  args: string[],
  o: StartOptions,
  ready: { announce: RegExp } | { url: string },
  env: NodeJS.ProcessEnv = { ...process.env, BERTH_ACCESS_LOG: "0" },
): Promise<RunningServer> {
  const d = startDaemon(cmd, args, { env, cwd: o.repoDir, logFile: o.logFile, priority: o.priority });
  live.add(d);
  const tail = () => d.logs.slice(-10).join("\n").slice(-500);
  const deadline = Date.now() + 30_000;
  try {
    let url = "url" in ready ? ready.url : (await d.waitForLine(ready.announce, 30_000))[1]!.replace(/\/+$/, "");
    for (;;) {
      if (d.exited) throw new Error(`${kind} exited during startup: ${tail()}`);
      if (Date.now() > deadline) throw new Error(`${kind} did not start in 30 s: ${tail()}`);
      if (await probe(url)) break;
      await new Promise((r) => setTimeout(r, 5)); // 5 ms: start-up is a figure (workload "first answer")
    }
    url = url.replace(/\/+$/, "");
    return {
      kind,
      url,
      pid: d.pid,
      memory: () => treeMemory(d.pid),
      stop: async () => {
        await d.stop(5_000);
        live.delete(d);
      },
    };
  } catch (error) {
    await d.stop(1_000);
    live.delete(d);
    throw error;
  }
}

async function probe(url: string): Promise<boolean> {
  try {
    const r = await request(`${url}/v2/`, { method: "GET" });
    return r.status === 200 || r.status === 401;
  } catch {
    return false;
  }
}

/** VmHWM and VmRSS of process `pid` in bytes (0 once it has exited). */
export function processMemory(pid: number): { hwm: number; rss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return { hwm: kib("VmHWM"), rss: kib("VmRSS") };
  } catch {
    return { hwm: 0, rss: 0 }; // exited
  }
}

export function treeMemory(pid: number): Memory {
  const own = processMemory(pid);
  let treeHwm = 0;
  let treeRss = 0;
  for (const p of [pid, ...descendants(pid)]) {
    const m = processMemory(p);
    treeHwm += m.hwm;
    treeRss += m.rss;
  }
  return { ...own, treeHwm, treeRss };
}

/** User and kernel CPU-seconds so far, summed over process `pid` and its descendants. */
export function treeCpu(pid: number): { user: number; sys: number } {
  let user = 0;
  let sys = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const c = processCpu(p);
      user += c.user;
      sys += c.sys;
    } catch {
      // exited meanwhile
    }
  }
  return { user, sys };
}

export const logPath = (dir: string, kind: string, label: string): string => path.join(dir, `${kind}-${label}.log`);
