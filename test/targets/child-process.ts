/**
 * Child-process plumbing shared by the targets that run a real server (node, deno): wait
 * for its "listening" line, stop it by pid, and speak to it with fetch over the socket.
 */
import type { ChildProcess } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import type { AuthLaunch } from "./auth-args.ts";
import type { Target } from "./index.ts";

/**
 * Resolve with the first capture of `pattern` on the child's stdout. Generous timeout: a
 * fresh DENO_DIR downloads the npm dependencies on the first deno start.
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

/** A Target for a server `child` listening at `baseUrl`; closing stops it and removes `workDir`. */
export function processTarget(name: string, child: ChildProcess, baseUrl: string, workDir: string, rootDir: string): Target {
  return {
    name,
    baseUrl,
    rootDir,
    async fetch(path, init = {}) {
      const streaming = init.body instanceof ReadableStream;
      return fetch(baseUrl + path, { redirect: "manual", ...init, ...(streaming ? { duplex: "half" } : {}) } as RequestInit);
    },
    close: () => stopAndClean(child, workDir),
  };
}

/** Stop the server and remove its work directory (also after a failed start). */
export async function stopAndClean(child: ChildProcess, workDir: string): Promise<void> {
  await stopChild(child);
  await rm(workDir, { recursive: true, force: true });
}

/** Let tests rewrite the server's htpasswd/policy files and send it SIGHUP (reload tests). */
export function withAuthFiles(target: Target, auth: AuthLaunch, child: ChildProcess): Target {
  return {
    ...target,
    async writeAuthFile(which, text) {
      const path = auth.paths[which];
      if (!path) throw new Error(`${target.name} target: started without a ${which} file`);
      await writeFile(path, text);
    },
    async hangUp() {
      child.kill("SIGHUP");
    },
  };
}
