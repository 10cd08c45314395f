/**
 * The one place tests, e2e launchers and the benchmark learn how to run `berth serve` as a
 * child process, on Node (`node bin/berth.mjs serve`) or Deno (`deno run` on
 * runtimes/deno/main.ts with the README's least-privilege permissions).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const DENO_CONFIG = join(REPO_ROOT, "runtimes/deno/deno.json");
const NODE_BIN = join(REPO_ROOT, "bin/berth.mjs");
const DENO_MAIN = join(REPO_ROOT, "runtimes/deno/main.ts");

/** What both CLIs print once they accept requests; capture 1 is the URL. */
export const LISTENING = /berth listening on (http:\/\/[^\s]+)/;

export type BerthRuntime = "node" | "deno";

export interface BerthServeOptions {
  root: string;
  host?: string;
  /** 0 (the default) for a free port. */
  port?: number;
  htpasswdFile?: string;
  anonymousPull?: boolean;
  readOnlyUsers?: string[];
  uploadExpiryMs?: number;
  maxManifestBytes?: number;
  quiet?: boolean;
  /** Node only: flags for node itself (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Deno only: false leaves out --allow-write for the root (default true). */
  allowWrite?: boolean;
  /** More `berth serve` flags (auth), and the files they name (Deno must be allowed to read them). */
  extraArgs?: string[];
  readable?: string[];
  /** Pull-through cache: `--upstream` values (`URL` or `NS=URL`); Deno may then reach their hosts. */
  upstreams?: string[];
  upstreamTagTtlSeconds?: number;
  /** `gc` or `du` instead of serve: no listen address, no network permission. */
  command?: "serve" | "gc" | "du";
}

let resolvedDeno: string | null | undefined;

/**
 * The deno executable itself (never the npm `bin.cjs` wrapper, whose pid would not be the
 * server's): $DENO_BIN, else the one the `deno` devDependency installed, else `deno` on PATH.
 */
export function denoBinary(): string | null {
  if (resolvedDeno !== undefined) return resolvedDeno;
  const candidates: string[] = [];
  if (process.env.DENO_BIN) candidates.push(process.env.DENO_BIN);
  try {
    const installer = createRequire(join(REPO_ROOT, "package.json"))("deno/install_api.cjs") as { runInstall(): string };
    candidates.push(installer.runInstall());
  } catch {
    // devDependency not installed: fall back to PATH
  }
  candidates.push("deno");
  resolvedDeno = candidates.find((bin) => (bin === "deno" || existsSync(bin)) && spawnSync(bin, ["--version"]).status === 0) ?? null;
  return resolvedDeno;
}

/** `berth serve` (or gc, du) flags, the same on both runtimes. */
function serveFlags(options: BerthServeOptions): string[] {
  const command = options.command ?? "serve";
  const args = [command, "--root", options.root];
  if (command === "serve") args.push("--host", options.host ?? "127.0.0.1", "--port", String(options.port ?? 0));
  if (options.htpasswdFile) args.push("--htpasswd", options.htpasswdFile);
  if (options.anonymousPull) args.push("--anonymous-pull");
  if (options.readOnlyUsers?.length) args.push("--read-only", options.readOnlyUsers.join(","));
  if (options.uploadExpiryMs !== undefined) args.push("--upload-expiry", `${options.uploadExpiryMs / 1000}s`);
  if (options.maxManifestBytes !== undefined) args.push("--max-manifest-size", String(options.maxManifestBytes));
  if (options.quiet) args.push("--quiet");
  for (const upstream of options.upstreams ?? []) args.push("--upstream", upstream);
  if (options.upstreamTagTtlSeconds !== undefined) args.push("--upstream-tag-ttl", `${options.upstreamTagTtlSeconds}s`);
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** V8's own `gc` for runtimes/shared/young-garbage.ts (README, Run on Deno: pushes ~2x faster). */
export const DENO_V8_FLAGS = "--v8-flags=--expose-gc";

/** `deno run` arguments for main.ts with exactly the permissions it needs. */
export function denoServeArgs(options: BerthServeOptions): string[] {
  const host = options.host ?? "127.0.0.1";
  const readable = [options.root, ...(options.htpasswdFile ? [options.htpasswdFile] : []), ...(options.readable ?? [])];
  return [
    "run", "--config", DENO_CONFIG, "--no-prompt", DENO_V8_FLAGS,
    ...((options.command ?? "serve") === "serve" ? [`--allow-net=${[`${host.includes(":") ? `[${host}]` : host}:${options.port ?? 0}`, ...upstreamHosts(options)].join(",")}`] : []),
    `--allow-read=${readable.join(",")}`,
    ...(options.allowWrite === false ? [] : [`--allow-write=${options.root}`]),
    // yaml (config and policy files) reads LOG_TOKENS/LOG_STREAM on every parse; Deno throws on ungranted reads there.
    "--allow-env=BERTH_*,LOG_TOKENS,LOG_STREAM",
    DENO_MAIN, ...serveFlags(options),
  ];
}

/** Hosts of the `--upstream` values (`NS=URL` or `URL`), for Deno's --allow-net. */
const upstreamHosts = (options: BerthServeOptions) => (options.upstreams ?? []).map((u) => new URL(u.replace(/^[^/=]+=/, "")).host);

/** The command line (and environment) that runs `berth serve` on `runtime`. */
export function berthServeCommand(runtime: BerthRuntime, options: BerthServeOptions): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (runtime === "node") return { cmd: process.execPath, args: [...(options.nodeFlags ?? []), NODE_BIN, ...serveFlags(options)], env: { ...process.env } };
  const deno = denoBinary();
  if (!deno) throw new Error("no deno executable (npm ci installs one; or set DENO_BIN)");
  return { cmd: deno, args: denoServeArgs(options), env: { ...process.env, NO_COLOR: "1" } };
}
