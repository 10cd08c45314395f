/**
 * The Deno runtime as users run it: `deno run` on runtimes/deno/main.ts in a child process,
 * with the least-privilege permissions the README shows (net: the listen address only,
 * read/write: the storage root only, env: the BERTH_* names only), spoken to over a socket.
 * Also home to the Deno plumbing the store test and the e2e launcher share.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { authLaunch } from "./auth-args.ts";
import { processTarget, stopAndClean, waitForLine, withAuthFiles } from "./child-process.ts";
import type { Target, TargetOptions } from "./index.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const DENO_CONFIG = join(REPO_ROOT, "runtimes/deno/deno.json");
export const MAIN = join(REPO_ROOT, "runtimes/deno/main.ts");
const LISTENING = /berth listening on (http:\/\/[^\s]+)/;

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
  /** More options (auth flags) and the files they name, which deno must be allowed to read. */
  extraArgs?: string[];
  readable?: string[];
}

/** `deno run` arguments for main.ts with exactly the permissions it needs. */
export function denoServeArgs(options: DenoServeOptions): string[] {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  const readable = [options.root, ...(options.htpasswdFile ? [options.htpasswdFile] : []), ...(options.readable ?? [])];
  const args = [
    "run", "--config", DENO_CONFIG, "--no-prompt",
    `--allow-net=${host.includes(":") ? `[${host}]` : host}:${port}`,
    `--allow-read=${readable.join(",")}`,
    `--allow-write=${options.root}`,
    // yaml (config and policy files) reads LOG_TOKENS/LOG_STREAM on every parse; Deno throws on ungranted reads there.
    "--allow-env=BERTH_*,LOG_TOKENS,LOG_STREAM",
    MAIN, "serve", "--root", options.root, "--host", host, "--port", String(port),
  ];
  if (options.htpasswdFile) args.push("--htpasswd", options.htpasswdFile);
  if (options.anonymousPull) args.push("--anonymous-pull");
  if (options.quiet) args.push("--quiet");
  args.push(...(options.extraArgs ?? []));
  return args;
}

export async function createDenoTarget(options: TargetOptions): Promise<Target> {
  const bin = denoBinary();
  if (!bin) throw new Error("deno target: no deno executable (npm ci installs one; or set DENO_BIN)");
  const workDir = await mkdtemp(join(tmpdir(), "berth-deno-target-"));
  const rootDir = join(workDir, "root");
  const auth = await authLaunch(options.auth, workDir);
  const args = denoServeArgs({ root: rootDir, extraArgs: auth.args, readable: auth.files });
  const child = spawn(bin, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...auth.env, NO_COLOR: "1" } });
  try {
    return withAuthFiles(processTarget("deno", child, await waitForLine(child, LISTENING, "deno target"), workDir, rootDir), auth, child);
  } catch (error) {
    await stopAndClean(child, workDir);
    throw error;
  }
}

// Shared with the other tests that run deno as a child process.
export { stopChild, waitForLine } from "./child-process.ts";
