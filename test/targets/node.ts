/**
 * The Node runtime as users run it: `node bin/berth.mjs serve` in a child process with a
 * temporary --root, spoken to with real fetch over a socket.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Target, TargetOptions } from "./index.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(REPO_ROOT, "bin/berth.mjs");
const LISTENING = /berth listening on (http:\/\/[^\s]+)/;

export async function createNodeTarget(options: TargetOptions): Promise<Target> {
  const workDir = await mkdtemp(join(tmpdir(), "berth-node-target-"));
  const rootDir = join(workDir, "root");
  const args = [BIN, "serve", "--root", rootDir, "--host", "127.0.0.1", "--port", "0"];
  if (options.auth?.htpasswd !== undefined) {
    const file = join(workDir, "htpasswd");
    await writeFile(file, options.auth.htpasswd);
    args.push("--htpasswd", file);
  }
  if (options.auth?.anonymousPull) args.push("--anonymous-pull");

  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let baseUrl: string;
  try {
    baseUrl = await waitForListening(child);
  } catch (error) {
    await stop(child);
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }

  return {
    name: "node",
    baseUrl,
    rootDir,
    async fetch(path, init = {}) {
      const streaming = init.body instanceof ReadableStream;
      return fetch(baseUrl + path, {
        redirect: "manual",
        ...init,
        ...(streaming ? { duplex: "half" } : {}),
      } as RequestInit);
    },
    async close() {
      await stop(child);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

function waitForListening(child: ChildProcess, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => fail(`no "berth listening on" line within ${timeoutMs} ms`), timeoutMs);
    function fail(why: string) {
      clearTimeout(timer);
      reject(new Error(`node target: ${why}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = LISTENING.exec(stdout);
      if (match) {
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

/** SIGTERM this one child (never by name), SIGKILL it if it lingers. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
