/**
 * Many processes, one bucket: two `berth serve` processes on one bucket of a real s3rver,
 * as one registry: Node and Node (`s3`), or Node and Deno (`s3-deno`). Requests alternate
 * between the two, so the POST, PATCHes and PUT of one upload land on different processes,
 * and what one process pushed is read through the other.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { S3RVER_CREDENTIALS, startS3rver } from "../storage/s3rver.ts";
import { authLaunch } from "./auth-args.ts";
import { DENO_CONFIG, DENO_V8_FLAGS, denoBinary, LISTENING } from "../lib/berth-command.ts";
import { runToEnd, startDaemon } from "../lib/daemon.ts";
import { lifecycleArgs } from "./lifecycle-args.ts";
import type { Target, TargetOptions } from "./index.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(REPO_ROOT, "bin/berth.mjs");
const MAIN = join(REPO_ROOT, "runtimes/deno/main.ts");
const BUCKET = "berth-target";

/** Start two processes (the second Node or Deno) on one bucket of a fresh s3rver; `fetch` alternates between them. */
export async function createS3Target(options: TargetOptions, second: "node" | "deno" = "node"): Promise<Target & { urls: string[] }> {
  const s3 = await startS3rver([BUCKET]);
  const workDir = await mkdtemp(join(tmpdir(), "berth-s3-target-"));
  const storage = ["--s3-bucket", BUCKET, "--s3-endpoint", s3.endpoint, "--s3-prefix", "registry"];
  const lifecycle = lifecycleArgs(options.lifecycle);
  const configFile = lifecycle.configText ? join(workDir, "config.json") : undefined;
  if (configFile) await writeFile(configFile, lifecycle.configText!);
  const config = configFile ? ["--config", configFile] : [];
  const limits = [
    ...(options.uploadExpiryMs !== undefined ? ["--upload-expiry", `${options.uploadExpiryMs / 1000}s`] : []),
  ];
  const serve = ["serve", ...storage, "--host", "127.0.0.1", "--port", "0", ...config, ...limits, ...lifecycle.serve];
  if (options.maxManifestBytes !== undefined) serve.push("--max-manifest-size", String(options.maxManifestBytes));
  const auth = await authLaunch(options.auth, workDir);
  serve.push(...auth.args);
  if (options.ui === false) serve.push("--no-ui");
  if (options.corsOrigins) serve.push("--cors-origins", options.corsOrigins.join(","));
  for (const upstream of options.upstreams ?? []) serve.push("--upstream", upstream);
  if (options.upstreamTagTtlSeconds !== undefined) serve.push("--upstream-tag-ttl", `${options.upstreamTagTtlSeconds}s`);
  const upstreamHosts = (options.upstreams ?? []).map((u) => new URL(u.replace(/^[^/=]+=/, "")).host);
  const readable = [...auth.files, ...(configFile ? [configFile] : [])];
  const env = { ...process.env, ...auth.env, NO_COLOR: "1", AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
  const spawnNode = () => startDaemon(process.execPath, [BIN, ...serve], { cwd: REPO_ROOT, env });
  const spawnDeno = () => {
    const bin = denoBinary();
    if (!bin) throw new Error("s3-deno target: no deno executable");
    // Least privilege: the listen address and the S3 endpoint, the two AWS variables, no files but htpasswd.
    const permissions = [`--allow-net=${["127.0.0.1:0", new URL(s3.endpoint).host, ...upstreamHosts].join(",")}`, "--allow-env=BERTH_*,LOG_TOKENS,LOG_STREAM,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY", ...(readable.length ? [`--allow-read=${readable.join(",")}`] : [])];
    return startDaemon(bin, ["run", "--config", DENO_CONFIG, "--no-prompt", DENO_V8_FLAGS, ...permissions, MAIN, ...serve], { cwd: REPO_ROOT, env });
  };
  const children = [spawnNode(), second === "deno" ? spawnDeno() : spawnNode()];
  const close = async () => {
    await Promise.all(children.map((child) => child.stop(5_000)));
    await rm(workDir, { recursive: true, force: true });
    await s3.close();
  };
  let urls: string[];
  try {
    urls = await Promise.all(children.map(async (child) => (await child.waitForLine(LISTENING, 60_000))[1]!.replace(/\/$/, "")));
  } catch (error) {
    await close();
    throw error;
  }
  let turn = 0;
  return {
    name: second === "deno" ? "s3-deno" : "s3",
    baseUrl: urls[0],
    urls,
    async fetch(path, init = {}) {
      const base = urls[turn++ % urls.length]!;
      const streaming = init.body instanceof ReadableStream;
      return fetch(base + path, { redirect: "manual", ...init, ...(streaming ? { duplex: "half" } : {}) } as RequestInit);
    },
    close,
    // `berth gc` / `berth du` on Node in a process of its own, on the bucket both servers serve.
    lifecycle: (command, flags = []) =>
      runToEnd(process.execPath, [BIN, command, ...storage, ...config, ...(command === "gc" ? [...lifecycle.gc, ...limits] : []), ...flags], { cwd: REPO_ROOT, env }),
  };
}
