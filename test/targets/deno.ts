/**
 * The Deno runtime as users run it: `deno run` on runtimes/deno/main.ts in a child process,
 * with the least-privilege permissions the README shows (net: the listen address only,
 * read/write: the storage root only, env: the BERTH_* names only), spoken to over a socket.
 * Also home to the Deno plumbing the store test and the e2e launcher share.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Target, TargetOptions } from "./index.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const DENO_CONFIG = join(REPO_ROOT, "runtimes/deno/deno.json");
const MAIN = join(REPO_ROOT, "runtimes/deno/main.ts");
const LISTENING = /berth listening on (http:\/\/[^\s]+)/;
const ENV_NAMES = "BERTH_ROOT,BERTH_HOST,BERTH_PORT,BERTH_HTPASSWD,BERTH_ANONYMOUS_PULL,BERTH_READ_ONLY_USERS,BERTH_UPLOAD_EXPIRY,BERTH_ACCESS_LOG";

let resolvedBin: string | null | undefined;

/**
 * The deno executable itself (never the npm `bin.cjs` wrapper, whose pid would not be the
 * server's): $DENO_BIN, else the one the `deno` devDependency installed, else `deno` on PATH.
 */
export function denoBinary(): string | null {
  if (resolvedBin !== undefined) return resolvedBin;
  const candidates: string[] = [];
  if (process.env.DENO_BIN) candidates.push(process.env.DENO_BIN);
  try {
    const installer = createRequire(join(REPO_ROOT, "package.json"))("deno/install_api.cjs") as { runInstall(): string };
    candidates.push(installer.runInstall());
  } catch {
    // devDependency not installed: fall back to PATH
  }
  candidates.push("deno");
  resolvedBin = candidates.find((bin) => (bin === "deno" || existsSync(bin)) && spawnSync(bin, ["--version"]).status === 0) ?? null;
  return resolvedBin;
}

export const denoAvailable = (): boolean => denoBinary() !== null;

export interface DenoServeOptions {
  root: string;
  host?: string;
  /** 0 (the default) for a free port. */
  port?: number;
  htpasswdFile?: string;
  anonymousPull?: boolean;
  quiet?: boolean;
}

/** `deno run` arguments for main.ts with exactly the permissions it needs. */
export function denoServeArgs(options: DenoServeOptions): string[] {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  const readable = [options.root, ...(options.htpasswdFile ? [options.htpasswdFile] : [])];
  const args = [
    "run", "--config", DENO_CONFIG, "--no-prompt",
    `--allow-net=${host.includes(":") ? `[${host}]` : host}:${port}`,
    `--allow-read=${readable.join(",")}`,
    `--allow-write=${options.root}`,
    `--allow-env=${ENV_NAMES}`,
    MAIN, "serve", "--root", options.root, "--host", host, "--port", String(port),
  ];
  if (options.htpasswdFile) args.push("--htpasswd", options.htpasswdFile);
  if (options.anonymousPull) args.push("--anonymous-pull");
  if (options.quiet) args.push("--quiet");
  return args;
}

export async function createDenoTarget(options: TargetOptions): Promise<Target> {
  const bin = denoBinary();
  if (!bin) throw new Error("deno target: no deno executable (npm ci installs one; or set DENO_BIN)");
  const workDir = await mkdtemp(join(tmpdir(), "berth-deno-target-"));
  const rootDir = join(workDir, "root");
  let htpasswdFile: string | undefined;
  if (options.auth?.htpasswd !== undefined) {
    htpasswdFile = join(workDir, "htpasswd");
    await writeFile(htpasswdFile, options.auth.htpasswd);
  }
  const args = denoServeArgs({ root: rootDir, htpasswdFile, anonymousPull: options.auth?.anonymousPull });
  const child = spawn(bin, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let baseUrl: string;
  try {
    baseUrl = await waitForLine(child, LISTENING, "deno target");
  } catch (error) {
    await stopChild(child);
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }

  return {
    name: "deno",
    baseUrl,
    rootDir,
    async fetch(path, init = {}) {
      const streaming = init.body instanceof ReadableStream;
      return fetch(baseUrl + path, { redirect: "manual", ...init, ...(streaming ? { duplex: "half" } : {}) } as RequestInit);
    },
    async close() {
      await stopChild(child);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolve with the first capture of `pattern` on the child's stdout. Generous timeout: a
 * fresh DENO_DIR downloads the npm dependencies on first start.
 */
export function waitForLine(child: ChildProcess, pattern: RegExp, label: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => fail(`no ${pattern} line within ${timeoutMs} ms`), timeoutMs);
    function fail(why: string) {
      clearTimeout(timer);
      reject(new Error(`${label}: ${why}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }
    let found = false;
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      if (found) return; // keep draining the access log, stop collecting it
      stdout += chunk;
      const match = pattern.exec(stdout);
      if (match) {
        found = true;
        clearTimeout(timer);
        resolvePromise(match[1]!.replace(/\/$/, ""));
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      if (process.env.BERTH_TARGET_LOGS) process.stderr.write(chunk);
    });
    child.once("error", (error) => fail(`spawn failed: ${error.message}`));
    child.once("exit", (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
  });
}

/** SIGTERM this one child (by its pid, never by name), SIGKILL it if it lingers. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
