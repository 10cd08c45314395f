/**
 * The Deno runtime beyond the shared HTTP suite (which runs against it as the `deno` target):
 * its CLI and permissions stay in step with the Node CLI and package.json, and the real
 * `deno run` process logs, shuts down gracefully and answers HEAD with the real length.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USAGE } from "../runtimes/deno/help.ts";
import { ENV_NAMES } from "../src/config/options.ts";
import { rawRequest } from "./targets/raw-http.ts";
import { pushBlobInOnePatch, startUpload } from "./http/helpers.ts";
import { socketTarget } from "./targets/index.ts";
import { DENO_V8_FLAGS, denoBinary, denoServeArgs, LISTENING, REPO_ROOT } from "./lib/berth-command.ts";
import { startDaemon } from "./lib/daemon.ts";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");
const allowEnvIn = (command: string) => /--allow-env=(\S+)/.exec(command)?.[1]?.split(",");
const bin = denoBinary();

describe("Deno runtime configuration", () => {
  it("deno.json maps every package src/ imports to npm: with package.json's range; no jsr: anywhere", () => {
    const denoJson = JSON.parse(read("runtimes/deno/deno.json")) as { imports: Record<string, string> };
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    const sources = tsFilesUnder(join(REPO_ROOT, "src")).map(read);
    const bare = new Set(sources.flatMap((text) => [...text.matchAll(/from "([^./][^"]*)"/g)].map((m) => m[1]!)));
    expect(bare.size).toBeGreaterThan(0);
    for (const specifier of bare) {
      const packageName = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!;
      const mapped = denoJson.imports[specifier] ?? denoJson.imports[`${packageName}/`];
      expect(mapped, `deno.json imports for ${specifier}`).toMatch(new RegExp(`^npm:/?${packageName}@`));
      expect(mapped).toContain(`@${pkg.dependencies[packageName]}`);
    }
    for (const file of tsFilesUnder(join(REPO_ROOT, "runtimes/deno"))) expect(read(file), file).not.toMatch(/["']jsr:/);
  });

  it("the Node and Deno CLIs read options only through src/config (no flag or BERTH_* name of their own)", () => {
    for (const file of ["runtimes/node/cli.ts", "runtimes/shared/cli-options.ts", ...tsFilesUnder(join(REPO_ROOT, "runtimes/deno"))]) {
      expect(read(file), file).not.toMatch(/parseArgs|BERTH_[A-Z]/);
    }
  });

  it("every documented deno command grants --allow-env=BERTH_*,LOG_TOKENS,LOG_STREAM (the option table, and what yaml reads)", () => {
    const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
    const denoJson = JSON.parse(read("runtimes/deno/deno.json")) as { tasks: Record<string, string> };
    const commands = {
      "npm run serve:deno": pkg.scripts["serve:deno"]!,
      "deno task serve": denoJson.tasks.serve!,
      "test target": denoServeArgs({ root: "/r" }).join(" "),
      "--help": USAGE,
    };
    for (const [where, command] of Object.entries(commands)) expect(allowEnvIn(command)?.map((v) => v.replace(/["']/g, "")), where).toEqual(["BERTH_*", "LOG_TOKENS", "LOG_STREAM"]);
    // V8's own gc (runtimes/shared/young-garbage.ts): without it Deno pushes about half as fast.
    for (const [where, command] of Object.entries(commands)) expect(command.split(/\s+/), where).toContain(DENO_V8_FLAGS);
    for (const name of ENV_NAMES) expect(name).toMatch(/^BERTH_/);
  });
});

describe.skipIf(!bin && !process.env.REQUIRE_CLIENTS)("deno run runtimes/deno/main.ts", () => {
  let parent: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), "berth-deno-runtime-"));
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  /** Start main.ts with the least-privilege arguments (`--root` left to BERTH_ROOT if set); collects stdout. */
  async function start(name: string, extra: string[] = [], env: Record<string, string> = {}) {
    if (!bin) throw new Error("REQUIRE_CLIENTS=1 but no deno executable");
    const root = join(parent, name);
    const args = [...denoServeArgs({ root }), ...extra];
    if (env.BERTH_ROOT !== undefined) args.splice(args.lastIndexOf("--root"), 2);
    const daemon = startDaemon(bin, args, { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1", ...env } });
    const output = { stdout: "" };
    daemon.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output.stdout += chunk));
    const url = (await daemon.waitForLine(LISTENING, 60_000))[1]!;
    return { child: daemon.child, stop: () => daemon.stop(5_000), url, root, output };
  }

  it("started without --v8-flags=--expose-gc it warns that pushes run about half as fast; with it, no warning", async () => {
    const warning = "started without --v8-flags=--expose-gc: pushes run about half as fast";
    const logsOf = async (args: string[]) => {
      const daemon = startDaemon(bin!, args, { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1" } });
      await daemon.waitForLine(LISTENING, 60_000);
      await daemon.stop(5_000);
      return daemon.logs; // stdout and stderr
    };
    const withFlag = denoServeArgs({ root: join(parent, "gc-flag") });
    expect(withFlag).toContain(DENO_V8_FLAGS);
    expect(await logsOf(withFlag.filter((arg) => arg !== DENO_V8_FLAGS))).toContainEqual(expect.stringContaining(warning));
    const quiet = await logsOf(withFlag);
    expect(quiet).toContainEqual(expect.stringMatching(LISTENING));
    expect(quiet.filter((line) => line.includes("--v8-flags"))).toEqual([]);
  });

  it("without --allow-net for the listen address it exits 1 naming the permission, no uncaught stack", async () => {
    const root = join(parent, "no-net");
    const result = await run(bin!, ["run", "--config", join(REPO_ROOT, "runtimes/deno/deno.json"), "--no-prompt", "--allow-net=127.0.0.1:1",
      `--allow-read=${root}`, `--allow-write=${root}`, join(REPO_ROOT, "runtimes/deno/main.ts"), "serve", "--root", root, "--host", "127.0.0.1", "--port", "0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('berth: Requires net access to "127.0.0.1:0"');
    expect(result.stderr).toContain("berth: grant --allow-net for --host:--port");
    expect(result.stderr).not.toContain("Uncaught");
  });

  it("--help exits 0 with the usage; an unknown command exits 2", async () => {
    const help = await run(bin!, ["run", "--config", join(REPO_ROOT, "runtimes/deno/deno.json"), join(REPO_ROOT, "runtimes/deno/main.ts"), "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--upload-expiry DURATION");
    const bogus = await run(bin!, ["run", "--config", join(REPO_ROOT, "runtimes/deno/deno.json"), join(REPO_ROOT, "runtimes/deno/main.ts"), "bogus"]);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain('unknown command "bogus"');
  });

  it("logs one access-log line per request; HEAD over a socket keeps the real Content-Length", async () => {
    const server = await start("logs");
    try {
      const blob = new TextEncoder().encode("x".repeat(12_345));
      const digest = await pushBlobInOnePatch(socketTarget("deno", server.url), "logs/repo", blob);
      const head = await rawRequest(server.url, "HEAD", `/v2/logs/repo/blobs/${digest}`, { headers: { Connection: "close" } });
      expect(head.status).toBe(200);
      expect(head.headers["content-length"]).toBe("12345");
      expect(head.headers["transfer-encoding"]).toBeUndefined();
      expect(head.body.byteLength).toBe(0);
      const get = await rawRequest(server.url, "GET", `/v2/logs/repo/blobs/${digest}`);
      expect(get.body.byteLength).toBe(12_345);
      await expect.poll(() => server.output.stdout.split("\n").filter((l) => /"GET \/v2\/logs\/repo\/blobs\//.test(l)).length).toBe(1);
      const lines = server.output.stdout.trim().split("\n").slice(1);
      expect(lines).toHaveLength(5); // POST, PATCH, PUT, HEAD, GET
      // time client user "method path" status bytes-in bytes-out duration "agent" id=<request id>
      for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z 127\.0\.0\.1 - "(POST|PATCH|PUT|HEAD|GET) \/v2\/logs\/repo\/\S+" 20[0-6] \d+ \d+ \d+\.\dms "[^"]*" id=[0-9a-f-]{36}$/);
      expect(lines[3]).toMatch(/"HEAD \S+" 200 0 0 /);
      expect(lines[4]).toMatch(/"GET \S+" 200 0 12345 /);
    } finally {
      await server.stop();
    }
  });

  it("BERTH_ROOT and BERTH_ACCESS_LOG=0 from the environment: stores there, logs nothing", async () => {
    const envRoot = join(parent, "env-root");
    const server = await start("env-root", [], { BERTH_ROOT: envRoot, BERTH_ACCESS_LOG: "0" });
    try {
      await pushBlobInOnePatch(socketTarget("deno", server.url), "env/repo", new Uint8Array([1, 2, 3]));
      expect(existsSync(join(envRoot, "blobs"))).toBe(true);
      expect(server.output.stdout.trim().split("\n")).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  it("SIGTERM lets an in-flight PATCH finish, then exits 0", async () => {
    const server = await start("graceful", ["--quiet"]);
    const { location } = await startUpload(socketTarget("deno", server.url), "graceful/repo");
    const { hostname, port } = new URL(server.url);
    const half = new Uint8Array(64 * 1024).fill(7);
    const response = new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: hostname, port, method: "PATCH", path: location, headers: { "content-type": "application/octet-stream", "content-length": String(half.byteLength * 2) } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("error", reject);
      req.write(half, () => {
        setTimeout(() => {
          server.child.kill("SIGTERM");
          setTimeout(() => req.end(half), 300);
        }, 300);
      });
    });
    const exited = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)));
    expect(await response).toBe(202);
    expect(await exited).toBe(0);
    expect(server.output.stdout).toContain("berth: SIGTERM, finishing in-flight requests");
    const parts = await readdir(join(server.root, "uploads"), { recursive: true });
    expect(parts.some((name) => name.includes("part-"))).toBe(true);
  });
});

/** Files under `dir` (relative to the repo root), recursively, .ts only. */
function tsFilesUnder(dir: string): string[] {
  const entries = readdirSync(dir, { recursive: true, encoding: "utf8" });
  return entries.filter((name) => name.endsWith(".ts")).map((name) => join(dir, name).slice(REPO_ROOT.length));
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

