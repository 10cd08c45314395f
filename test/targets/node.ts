/**
 * The Node runtime as users run it: `node bin/berth.mjs serve` in a child process with a
 * temporary --root, spoken to with real fetch over a socket.
 */
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { authLaunch } from "./auth-args.ts";
import { processTarget, stopAndClean, waitForLine, withAuthFiles } from "./child-process.ts";
import type { Target, TargetOptions } from "./index.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(REPO_ROOT, "bin/berth.mjs");
const LISTENING = /berth listening on (http:\/\/[^\s]+)/;

export async function createNodeTarget(options: TargetOptions): Promise<Target> {
  const workDir = await mkdtemp(join(tmpdir(), "berth-node-target-"));
  const rootDir = join(workDir, "root");
  const args = [BIN, "serve", "--root", rootDir, "--host", "127.0.0.1", "--port", "0"];
  const auth = await authLaunch(options.auth, workDir);
  args.push(...auth.args);
  if (options.ui === false) args.push("--no-ui");
  if (options.corsOrigins) args.push("--cors-origins", options.corsOrigins.join(","));

  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...auth.env } });
  try {
    return withAuthFiles(processTarget("node", child, await waitForLine(child, LISTENING, "node target", 30_000), workDir, rootDir), auth, child);
  } catch (error) {
    await stopAndClean(child, workDir);
    throw error;
  }
}
