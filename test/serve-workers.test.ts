/**
 * `berth serve --workers 2` on Node: a primary and two worker processes behind one port
 * (node:cluster deals connections out in turn). Spoken to over two keep-alive connections,
 * each served by its own worker, which the test finds in /proc (the process holding the
 * server side of the socket): one upload crosses both, /metrics sums both, a killed worker is
 * replaced, SIGTERM stops them all. The whole HTTP suite also runs on this kind (node-workers).
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berthServeCommand, denoBinary, LISTENING, REPO_ROOT } from "./lib/berth-command.ts";
import { descendants, runToEnd, startDaemon, type Daemon } from "./lib/daemon.ts";

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer; clientPort: number }

/** One kept-alive connection: every request goes over the same socket (so to the same worker). */
function connection(base: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let clientPort = 0;
  const request = (method: string, path: string, body?: Buffer, headers: Record<string, string> = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const req = http.request(base + path, { method, agent, headers: body ? { "content-type": "application/octet-stream", "content-length": String(body.length), ...headers } : headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), clientPort }));
        res.on("error", reject);
      });
      req.on("socket", (socket) => {
        if (socket.localPort) clientPort = socket.localPort; // a kept-alive socket
        else socket.once("connect", () => (clientPort = socket.localPort!));
      });
      req.on("error", reject);
      req.end(body);
    });
  return { request, close: () => agent.destroy(), port: () => clientPort };
}

/** The pid among `pids` holding the server side of the TCP connection from 127.0.0.1:`clientPort`. */
async function ownerOf(clientPort: number, serverPort: number, pids: number[]): Promise<number | undefined> {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");
  const line = (await readFile("/proc/net/tcp", "utf8")).split("\n").find((row) => {
    const [, local, remote] = row.trim().split(/\s+/);
    return local?.endsWith(`:${hex(serverPort)}`) && remote?.endsWith(`:${hex(clientPort)}`);
  });
  const inode = line?.trim().split(/\s+/)[9];
  if (!inode) return undefined;
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === `socket:[${inode}]`) return pid;
  }
  return undefined;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const baseRequests = (metrics: string) => Number(/^registry_http_requests_total\{handler="base",code="200",method="GET"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);

describe("berth serve --workers 2 (Node)", () => {
  let dir: string;
  let server: Daemon;
  let base: string;
  let port: number;
  const workers = () => descendants(server.pid);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-workers-"));
    const { cmd, args, env } = berthServeCommand("node", { root: join(dir, "root"), extraArgs: ["--workers", "2"] });
    server = startDaemon(cmd, args, { env, cwd: REPO_ROOT });
    base = (await server.waitForLine(LISTENING, 30_000))[1]!.replace(/\/$/, "");
    port = Number(new URL(base).port);
  });
  afterAll(async () => {
    await server?.stop(20_000);
    await rm(dir, { recursive: true, force: true });
  });

  it("says once that it listens, with the number of workers, and runs two worker processes", () => {
    expect(server.logs.filter((line) => LISTENING.test(line))).toEqual([expect.stringMatching(/\(storage .+, 2 workers\)$/)]);
    expect(workers()).toHaveLength(2);
  });

  it("one upload over two connections answered by different workers: POST and PATCH on one, PATCH and PUT on the other -> the blob, whole", async () => {
    const [a, b] = [connection(base), connection(base)];
    try {
      const first = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
      const second = Buffer.from(Array.from({ length: 1_000_003 }, (_, i) => i % 251));
      const name = `workers/upload-${Date.now()}`;
      const started = await a.request("POST", `/v2/${name}/blobs/uploads/`);
      expect(started.status).toBe(202);
      const patched = await a.request("PATCH", started.headers.location!, first);
      expect(patched.status).toBe(202);
      const patched2 = await b.request("PATCH", patched.headers.location!, second);
      expect(patched2.status, patched2.body.toString()).toBe(202);
      expect(patched2.headers.range).toBe(`0-${first.length + second.length - 1}`);
      const whole = Buffer.concat([first, second]);
      const location = patched2.headers.location!;
      const done = await b.request("PUT", `${location}${location.includes("?") ? "&" : "?"}digest=${sha256(whole)}`);
      expect(done.status, done.body.toString()).toBe(201);
      const pids = workers();
      const [ownerA, ownerB] = [await ownerOf(a.port(), port, pids), await ownerOf(b.port(), port, pids)];
      expect(ownerA).toBeDefined();
      expect(ownerB).toBeDefined();
      expect(ownerA).not.toBe(ownerB);
      for (const c of [a, b]) {
        const pulled = await c.request("GET", `/v2/${name}/blobs/${sha256(whole)}`);
        expect(pulled.status).toBe(200);
        expect(sha256(pulled.body)).toBe(sha256(whole));
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it("GET /metrics on either connection counts the requests both workers answered", async () => {
    const [a, b] = [connection(base), connection(base)];
    try {
      const before = baseRequests((await a.request("GET", "/metrics")).body.toString());
      await b.request("GET", "/metrics"); // b's socket opens now, on the other worker
      const pids = workers();
      expect(await ownerOf(a.port(), port, pids)).not.toBe(await ownerOf(b.port(), port, pids));
      for (let i = 0; i < 3; i++) expect((await a.request("GET", "/v2/")).status).toBe(200);
      for (let i = 0; i < 2; i++) expect((await b.request("GET", "/v2/")).status).toBe(200);
      for (const c of [a, b]) expect(baseRequests((await c.request("GET", "/metrics")).body.toString()) - before).toBe(5);
    } finally {
      a.close();
      b.close();
    }
  });

  it("a worker killed by SIGKILL is replaced; what was stored stays, its counts stay in /metrics, new connections are answered", async () => {
    const name = `workers/kill-${Date.now()}`;
    const [a, b] = [connection(base), connection(base)];
    const blob = Buffer.from("kept across a worker's death");
    const started = await a.request("POST", `/v2/${name}/blobs/uploads/?digest=${sha256(blob)}`, blob);
    expect(started.status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await b.request("GET", "/v2/")).status).toBe(200);
    const pids = workers();
    const [survivor, victim] = [await ownerOf(a.port(), port, pids), await ownerOf(b.port(), port, pids)];
    expect(survivor).not.toBe(victim);
    const before = baseRequests((await a.request("GET", "/metrics")).body.toString()); // the primary learns both workers' counts
    a.close();
    b.close();
    process.kill(victim!, "SIGKILL");
    await server.waitForLine(/worker \d of 2 \(pid \d+\) serving again/, 30_000);
    expect(server.logs.some((line) => line.includes(`(pid ${victim}) exited (signal SIGKILL); starting another`))).toBe(true);
    const now = workers();
    expect(now).toHaveLength(2);
    expect(now).toContain(survivor);
    expect(now).not.toContain(victim);
    // The dead worker's GET /v2/ are still counted: a sum that went down would read as a counter reset.
    const scraper = connection(base);
    expect(baseRequests((await scraper.request("GET", "/metrics")).body.toString())).toBe(before);
    scraper.close();
    for (let i = 0; i < 4; i++) {
      const fresh = connection(base);
      const res = await fresh.request("GET", `/v2/${name}/blobs/${sha256(blob)}`);
      fresh.close();
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(blob.toString());
    }
  });

  it("SIGTERM to the primary stops every worker and exits 0", async () => {
    const pids = workers();
    const exited = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)));
    server.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(server.logs).toContain("berth stopped");
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe("berth serve as a worker of another cluster (pm2's cluster mode forks with node:cluster too)", () => {
  let dir: string;
  let primary: Daemon | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-foreign-cluster-"));
  });
  afterAll(async () => {
    await primary?.stop(10_000);
    await rm(dir, { recursive: true, force: true });
  });

  it("serves alone: its own listening line, /metrics at once, the GC schedule running", async () => {
    const { cmd, args, env } = berthServeCommand("node", { root: join(dir, "root"), extraArgs: ["--gc-interval", "1s"] });
    const serve = args.indexOf("serve"); // args: node flags, bin/berth.mjs, serve, its flags
    const script = join(dir, "foreign-primary.mjs");
    await writeFile(script, [
      'import cluster from "node:cluster";',
      `cluster.setupPrimary({ exec: ${JSON.stringify(args[serve - 1])}, args: ${JSON.stringify(args.slice(serve))} });`,
      "const worker = cluster.fork();",
      'process.on("SIGTERM", () => { worker.process.kill("SIGTERM"); worker.on("exit", () => process.exit(0)); });',
    ].join("\n"));
    primary = startDaemon(cmd, [script], { env, cwd: REPO_ROOT });
    const url = (await primary.waitForLine(LISTENING, 30_000))[1]!.replace(/\/$/, "");
    expect(primary.logs.filter((line) => LISTENING.test(line))).toEqual([expect.not.stringContaining("workers)")]);
    const res = await fetch(`${url}/metrics`); // joined to a primary that never answers, this would be a 503 after 5 s
    expect(res.status).toBe(200);
    await primary.waitForLine(/^berth gc: /, 10_000); // the schedule started without a primary's word
  });
});

describe("berth serve --workers: refused at startup", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-workers-bad-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const serveToExit = (runtime: "node" | "deno", root: string, extraArgs: string[]) => {
    const { cmd, args, env } = berthServeCommand(runtime, { root, extraArgs });
    return runToEnd(cmd, args, { env, cwd: REPO_ROOT }).then(() => "exited 0", (error: Error) => error.message);
  };

  it("--workers 65 -> exit 2 naming the option and its range", async () => {
    const output = await serveToExit("node", join(dir, "root"), ["--workers", "65"]);
    expect(output).toMatch(/: exit 2\n/);
    expect(output).toContain("berth: --workers: expected 0 (one per CPU core) to 64 processes, got 65");
  });

  it("--workers 2 with an unusable --root -> the worker's message once, then the primary stops with exit 1", async () => {
    const root = join(dir, "a-file");
    await writeFile(root, "not a folder");
    const output = await serveToExit("node", root, ["--workers", "2"]);
    expect(output).toMatch(/: exit 1\n/);
    expect(output.split(`storage root ${root} is not usable`)).toHaveLength(2);
    expect(output).toContain("worker 1 of 2 exited during start-up (code 1); stopping");
    expect(output).not.toMatch(/listening on/);
  });

  it.skipIf(!denoBinary() && !process.env.REQUIRE_CLIENTS)("Deno: --workers 2 -> exit 2, saying why it is Node only", async () => {
    const output = await serveToExit("deno", join(dir, "root"), ["--workers", "2"]);
    expect(output).toMatch(/: exit 2\n/);
    expect(output).toContain("--workers (server.workers) is for Node");
  });
});
