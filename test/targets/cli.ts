/**
 * Berth as users run it: `berth serve` on Node (`node bin/berth.mjs`) or Deno (`deno run`
 * with least-privilege permissions) in a child process with a temporary --root, configured
 * through its command-line flags and spoken to with real fetch over a socket.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { authLaunch } from "./auth-args.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { berthServeCommand, LISTENING, REPO_ROOT, type BerthRuntime } from "../lib/berth-command.ts";
import { runToEnd, startDaemon } from "../lib/daemon.ts";
import { socketTarget, type Target, type TargetOptions } from "./index.ts";
import { lifecycleArgs } from "./lifecycle-args.ts";

/** `serveArgs`: more `berth serve` flags (`--workers 2` for the node-workers kind). */
export async function createCliTarget(runtime: BerthRuntime, options: TargetOptions, serveArgs: string[] = []): Promise<Target> {
  const workDir = await mkdtemp(join(tmpdir(), `berth-${runtime}-target-`));
  const rootDir = join(workDir, "root");
  const auth = await authLaunch(options.auth, workDir);
  const ui = [...(options.ui === false ? ["--no-ui"] : []), ...(options.corsOrigins ? ["--cors-origins", options.corsOrigins.join(",")] : [])];
  const lifecycle = lifecycleArgs(options.lifecycle);
  const configFile = lifecycle.configText ? join(workDir, "config.json") : undefined;
  if (configFile) await writeFile(configFile, lifecycle.configText!);
  const config = configFile ? { args: ["--config", configFile], files: [configFile] } : { args: [], files: [] };
  const { cmd, args, env } = berthServeCommand(runtime, {
    root: rootDir,
    extraArgs: [...auth.args, ...ui, ...lifecycle.serve, ...config.args, ...serveArgs],
    readable: [...auth.files, ...config.files],
    uploadExpiryMs: options.uploadExpiryMs,
    maxManifestBytes: options.maxManifestBytes,
    upstreams: options.upstreams,
    upstreamTagTtlSeconds: options.upstreamTagTtlSeconds,
  });
  const server = startDaemon(cmd, args, { env: { ...env, ...auth.env }, cwd: REPO_ROOT });
  const close = async () => {
    await server.stop(5_000);
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    // Generous: a fresh DENO_DIR downloads the npm dependencies on the first deno start.
    const baseUrl = (await server.waitForLine(LISTENING, 60_000))[1]!.replace(/\/$/, "");
    if (process.env.BERTH_TARGET_LOGS) server.child.stderr!.pipe(process.stderr);
    return {
      ...socketTarget(runtime, baseUrl, close, rootDir),
      // Reload tests rewrite the server's htpasswd/policy files and send it SIGHUP.
      async writeAuthFile(which, text) {
        const path = auth.paths[which];
        if (!path) throw new Error(`${runtime} target: started without a ${which} file`);
        await writeFile(path, text);
      },
      async hangUp() {
        server.child.kill("SIGHUP");
      },
      // The CLI in its own process, on the folder the server is serving: online collection as users run it.
      lifecycle(command, flags = []) {
        const extraArgs = [...config.args, ...(command === "gc" ? lifecycle.gc : []), ...flags];
        const expiry = command === "gc" ? options.uploadExpiryMs : undefined; // gc purges sessions idle past it
        const run = berthServeCommand(runtime, { root: rootDir, command, extraArgs, readable: config.files, uploadExpiryMs: expiry });
        return runToEnd(run.cmd, run.args, { cwd: REPO_ROOT, env: { ...run.env, ...auth.env } });
      },
    };
  } catch (error) {
    await close();
    throw new Error(`${runtime} target: ${error instanceof Error ? error.message : error}`);
  }
}
