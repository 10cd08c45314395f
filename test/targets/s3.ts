/**
 * Many processes, one bucket: two `berth serve` processes (Node, and Deno as the second
 * when BERTH_S3_SECOND=deno) on one bucket of a real s3rver, as one registry. Requests
 * alternate between the two, so the POST, PATCHes and PUT of one upload land on different
 * processes, and what one process pushed is read through the other.
 */
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { S3RVER_CREDENTIALS, startS3rver } from "../storage/s3rver.ts";
import { stopAndClean, waitForLine } from "./child-process.ts";
import type { Target, TargetOptions } from "./index.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(REPO_ROOT, "bin/berth.mjs");
const LISTENING = /berth listening on (http:\/\/[^\s]+)/;
const BUCKET = "berth-target";

/** Start `count` Node processes on one bucket of a fresh s3rver; `fetch` alternates between them. */
export async function createS3Target(options: TargetOptions, count = 2): Promise<Target & { urls: string[] }> {
  const s3 = await startS3rver([BUCKET]);
  const workDir = await mkdtemp(join(tmpdir(), "berth-s3-target-"));
  const args = [BIN, "serve", "--s3-bucket", BUCKET, "--s3-endpoint", s3.endpoint, "--s3-prefix", "registry", "--host", "127.0.0.1", "--port", "0"];
  if (options.auth?.htpasswd !== undefined) {
    const file = join(workDir, "htpasswd");
    await writeFile(file, options.auth.htpasswd);
    args.push("--htpasswd", file);
  }
  if (options.auth?.anonymousPull) args.push("--anonymous-pull");
  const env = { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
  const children = Array.from({ length: count }, () => spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] }));
  const close = async () => {
    await Promise.all(children.map((child) => stopAndClean(child, workDir)));
    await s3.close();
  };
  let urls: string[];
  try {
    urls = await Promise.all(children.map((child, i) => waitForLine(child, LISTENING, `s3 target process ${i + 1}`, 30_000)));
  } catch (error) {
    await close();
    throw error;
  }
  let turn = 0;
  return {
    name: "s3",
    baseUrl: urls[0],
    urls,
    async fetch(path, init = {}) {
      const base = urls[turn++ % urls.length]!;
      const streaming = init.body instanceof ReadableStream;
      return fetch(base + path, { redirect: "manual", ...init, ...(streaming ? { duplex: "half" } : {}) } as RequestInit);
    },
    close,
  };
}
