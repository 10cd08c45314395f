// Start-up before/after, robust on a busy machine: `npx tsx bench/tools/ab-startup.ts DIR_A DIR_B
// [--spawns 16]`. Spawns `node DIR/bin/berth.mjs serve` from each built checkout in turn (the
// order flips every round), plus two floors: a bare node:http server, and one that makes a Web
// Request and Response per request as Berth's adapter does (undici and Web streams). Prints
// medians of: spawn -> first 200 of GET /v2/ (polled every 2 ms), the process's CPU time at
// that moment (all threads, ns-precise /proc/<pid>/task/*/schedstat: /proc/<pid>/stat ticks
// are 10 ms), its RSS then (what the bench's "idle RSS" reads) and 1 s later.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { processMemory } from "../lib/servers.ts";
import { median } from "../lib/table.ts";

const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { spawns: { type: "string", default: "16" } } });
const LISTEN = `s.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + s.address().port));`;
const FLOORS: Record<string, string[]> = {
  "bare node:http (node -e)": ["-e", `const s = require("node:http").createServer((q, r) => r.end("{}")); ${LISTEN}`],
  "node -e + Request/Response": ["-e", `const s = require("node:http").createServer(async (q, r) => {
    const headers = new Headers();
    for (let i = 0; i < q.rawHeaders.length; i += 2) headers.append(q.rawHeaders[i], q.rawHeaders[i + 1]);
    new Request("http://localhost" + q.url, { headers });
    r.end(Buffer.from(await new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("{}")); c.close(); } })).arrayBuffer()));
  }); ${LISTEN}`],
};
const variants = [...Object.entries(FLOORS), ...positionals.map((dir): [string, string[]] => [`berth ${path.basename(path.resolve(dir))}`, [path.join(path.resolve(dir), "bin/berth.mjs"), "serve", "--host", "127.0.0.1", "--port", "0", "--quiet", "--root"]])];

const cpuSeconds = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).reduce((sum, task) => {
    try {
      return sum + Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]) / 1e9;
    } catch {
      return sum; // the thread ended
    }
  }, 0);
const rssMiB = (pid: number) => processMemory(pid).rss / 1024 / 1024;
const status = (url: string) =>
  new Promise<number>((resolve) => {
    request(`${url}/v2/`, { agent: false }, (res) => res.resume().on("end", () => resolve(res.statusCode ?? 0))).on("error", () => resolve(0)).end();
  });

interface Sample { firstAnswer: number; cpu: number; rss: number; rssLater: number }
async function once(argv: string[]): Promise<Sample> {
  const root = mkdtempSync(path.join(tmpdir(), "berth-ab-startup-"));
  const started = performance.now();
  const child = spawn(process.execPath, argv[0] === "-e" ? argv : [...argv, root], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, BERTH_ACCESS_LOG: "0" } });
  try {
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        const m = /listening on (http:\/\/\S+)/.exec((out += chunk));
        if (m) resolve(m[1]!.replace(/\/+$/, ""));
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    while ((await status(url)) !== 200) await new Promise((r) => setTimeout(r, 2));
    const sample = { firstAnswer: (performance.now() - started) / 1000, cpu: cpuSeconds(child.pid!), rss: rssMiB(child.pid!), rssLater: 0 };
    await new Promise((r) => setTimeout(r, 1000));
    return { ...sample, rssLater: rssMiB(child.pid!) };
  } finally {
    child.kill("SIGTERM");
    if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
    rmSync(root, { recursive: true, force: true });
  }
}

const samples = new Map<string, Sample[]>(variants.map(([name]) => [name, []]));
for (let round = 0; round < Number(args.spawns); round++) {
  for (const [name, argv] of round % 2 ? [...variants].reverse() : variants) samples.get(name)!.push(await once(argv));
}
console.log(`medians of ${args.spawns} spawns each, load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
console.log(`${"".padEnd(30)} first answer (min)   CPU-s   RSS MiB   1 s later`);
for (const [name, xs] of samples) {
  const m = (k: keyof Sample) => median(xs.map((x) => x[k]));
  const min = Math.min(...xs.map((x) => x.firstAnswer));
  console.log(`${name.slice(-30).padEnd(30)} ${m("firstAnswer").toFixed(3)} s (${min.toFixed(3)})   ${m("cpu").toFixed(3)}   ${m("rss").toFixed(1).padStart(7)}   ${m("rssLater").toFixed(1).padStart(9)}`);
}
