// Server launchers. Each kind knows how to start one registry on 127.0.0.1 with a fresh
// filesystem root and how to tell when it is ready; all are stopped by pid (SIGTERM).
// To add a runtime (e.g. Deno), add one entry to SERVER_KINDS.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { request } from "./http.ts";

export interface RunningServer {
  kind: string;
  /** Token auth is on: workload 4 fetches a token and sends it on every request. */
  tokenAuth?: boolean;
  url: string; // http://127.0.0.1:PORT
  pid: number;
  /** VmHWM / VmRSS in bytes of the server process, and summed over its process tree
   *  (Berth on Node via bin/berth.mjs has an esbuild helper child from tsx). */
  memory(): Memory;
  stop(): Promise<void>;
}

export interface Memory { hwm: number; rss: number; treeHwm: number; treeRss: number }

export interface ServerKind {
  name: string;
  /** The reference the others are compared with. */
  reference?: boolean;
  /** Only these workloads run on it (default: all). */
  workloads?: string[];
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

const BERTH_ENV = "BERTH_ROOT,BERTH_HOST,BERTH_PORT,BERTH_HTPASSWD,BERTH_ANONYMOUS_PULL,BERTH_READ_ONLY_USERS,BERTH_UPLOAD_EXPIRY,BERTH_ACCESS_LOG";

let denoBin: string | null | undefined;
/** $DENO_BIN, else the binary the `deno` devDependency installed, else `deno` on PATH. */
function denoBinary(repoDir: string): string | null {
  if (denoBin !== undefined) return denoBin;
  const candidates: string[] = process.env.DENO_BIN ? [process.env.DENO_BIN] : [];
  try {
    const api = createRequire(path.join(repoDir, "package.json"))("deno/install_api.cjs") as { runInstall(): string };
    candidates.push(api.runInstall());
  } catch { /* not installed */ }
  candidates.push("deno");
  denoBin = candidates.find((b) => (b === "deno" || existsSync(b)) && spawnSync(b, ["--version"]).status === 0) ?? null;
  return denoBin;
}

const LISTENING = /listening on (http:\/\/[^\s]+)/;

export const SERVER_KINDS: ServerKind[] = [
  {
    name: "berth-node",
    unavailable: (dir) => (existsSync(path.join(dir, "bin/berth.mjs")) ? null : "bin/berth.mjs not found"),
    start: (root, o) =>
      startProcess("berth-node", process.execPath, [...o.nodeFlags, "bin/berth.mjs", "serve", "--root", root, "--host", "127.0.0.1", "--port", "0"], o, {
        announce: LISTENING,
      }),
  },
  {
    // Berth on Node with token auth: htpasswd + a policy that lets anyone do anything (so the
    // warm-up pushes need no login), and workload 4 sends a Bearer token on every request.
    name: "berth-node-token",
    workloads: ["4"],
    unavailable: (dir) => (existsSync(path.join(dir, "bin/berth.mjs")) ? null : "bin/berth.mjs not found"),
    start: async (root, o) => {
      writeFileSync(`${root}.htpasswd`, "bench:$2b$04$vlGKzKX/Ncw/IpAVYa3/5.i3Cthw/KYE/zOa9iGSMhhidocQKRS2C\n");
      writeFileSync(`${root}.policy.yaml`, 'rules:\n  - repositories: ["**"]\n    anonymous: true\n    actions: ["*"]\n');
      const auth = ["--htpasswd", `${root}.htpasswd`, "--policy", `${root}.policy.yaml`, "--token-lifetime", "2h"];
      const s = await startProcess("berth-node-token", process.execPath, [...o.nodeFlags, "bin/berth.mjs", "serve", "--root", root, "--host", "127.0.0.1", "--port", "0", ...auth], o, {
        announce: LISTENING,
      });
      return { ...s, tokenAuth: true };
    },
  },
  {
    // As users run it: the real deno executable (not the npm wrapper, whose pid is not the
    // server's), the project's deno.json, least-privilege permissions.
    name: "berth-deno",
    unavailable: (dir) =>
      !denoBinary(dir) ? "no deno executable (npm ci installs one; or set DENO_BIN)"
        : existsSync(path.join(dir, "runtimes/deno/main.ts")) ? null : "runtimes/deno/main.ts not found",
    start: (root, o) =>
      startProcess("berth-deno", denoBinary(o.repoDir)!, [
        "run", "--config", path.join(o.repoDir, "runtimes/deno/deno.json"), "--no-prompt",
        "--allow-net=127.0.0.1:0", `--allow-read=${root}`, `--allow-write=${root}`, `--allow-env=${BERTH_ENV}`,
        path.join(o.repoDir, "runtimes/deno/main.ts"), "serve", "--root", root, "--host", "127.0.0.1", "--port", "0",
      ], o, { announce: LISTENING }),
  },
  {
    name: "distribution",
    reference: true,
    unavailable: () => (existsSync("/usr/bin/docker-registry") ? null : "/usr/bin/docker-registry not installed (apt-get install docker-registry)"),
    start: async (root, o) => {
      const port = await freePort();
      const config = `${root}.yml`;
      writeFileSync(config, distributionConfig(root, port));
      return startProcess("distribution", "/usr/bin/docker-registry", ["serve", config], o, { url: `http://127.0.0.1:${port}` });
    },
  },
];

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

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
/** Kills servers still running when the harness exits abnormally. */
export function killAll(): void {
  for (const c of live) if (c.pid) try { process.kill(c.pid, "SIGKILL"); } catch { /* gone */ }
}

export async function startProcess(
  kind: string,
  cmd: string,
  args: string[],
  o: StartOptions,
  ready: { announce: RegExp } | { url: string },
): Promise<RunningServer> {
  const env = { ...process.env, BERTH_ACCESS_LOG: "0" };
  const [file, argv] = o.priority === undefined ? [cmd, args] : ["nice", ["-n", String(o.priority), cmd, ...args]];
  const child = spawn(file, argv, { cwd: o.repoDir, env, stdio: ["ignore", "pipe", "pipe"] }); // nice execs: same pid
  live.add(child);
  const log = createWriteStream(o.logFile);
  let tail = "";
  let announced = "";
  const keep = (b: Buffer) => {
    log.write(b);
    tail = (tail + b.toString("utf8")).slice(-2000);
    if ("announce" in ready && !announced) announced = ready.announce.exec(tail)?.[1] ?? "";
  };
  child.stdout!.on("data", keep); // always drained, so a chatty server never blocks on a full pipe
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => { live.delete(child); r(code); }));
  let dead = false;
  void exited.then(() => { dead = true; });

  const deadline = Date.now() + 30_000;
  let url = "url" in ready ? ready.url : "";
  for (;;) {
    if (dead) throw new Error(`${kind} exited during startup: ${tail.trim().slice(-500)}`);
    if (Date.now() > deadline) { child.kill("SIGKILL"); throw new Error(`${kind} did not start in 30 s: ${tail.slice(-500)}`); }
    if (!url && announced) url = announced.replace(/\/+$/, "");
    if (url && (await probe(url))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid!;
  return {
    kind,
    url,
    pid,
    memory: () => treeMemory(pid),
    stop: async () => {
      if (!dead) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
      await new Promise<void>((r) => log.end(r));
    },
  };
}

async function probe(url: string): Promise<boolean> {
  try {
    const r = await request(`${url}/v2/`, { method: "GET" });
    return r.status === 200 || r.status === 401;
  } catch {
    return false;
  }
}

function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch { /* exited */ }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function processMemory(pid: number): { hwm: number; rss: number } {
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
  for (const p of descendants(pid)) {
    const m = processMemory(p);
    treeHwm += m.hwm;
    treeRss += m.rss;
  }
  return { ...own, treeHwm, treeRss };
}

export const logPath = (dir: string, kind: string, label: string): string => path.join(dir, `${kind}-${label}.log`);
