/** `berth serve` on Node or Deno as a child process with extra flags, its whole output kept. */
import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { berthServeCommand, REPO_ROOT } from "../lib/berth-command.ts";
import { startDaemon } from "../lib/daemon.ts";

export interface ProcessServer {
  url: string;
  child: ChildProcess;
  /** Every line written to stdout and stderr so far. */
  output: () => string[];
  /** SIGTERM by pid; resolves once the process has exited. */
  stop: () => Promise<void>;
}

export async function startProcessServer(kind: "node" | "deno", workDir: string, extra: string[], options: { htpasswdFile?: string; readable?: string[]; denoFlags?: string[] } = {}): Promise<ProcessServer> {
  const root = join(workDir, "root");
  await mkdir(root, { recursive: true });
  const { cmd, args, env } = berthServeCommand(kind, { root, htpasswdFile: options.htpasswdFile, extraArgs: extra, readable: options.readable });
  // Deno: let it fetch webhook receivers on 127.0.0.1, and take extra runtime flags (--unstable-net).
  const argv = kind === "deno"
    ? args.flatMap((arg, i) => (arg.startsWith("--allow-net=") ? ["--allow-net=127.0.0.1"] : i === 0 ? [arg, ...(options.denoFlags ?? [])] : [arg]))
    : args;
  const daemon = startDaemon(cmd, argv, { env, cwd: REPO_ROOT });
  try {
    const match = await daemon.waitForLine(/listening on (https?:\/\/127\.0\.0\.1:\d+)/, 60_000);
    return { url: match[1]!, child: daemon.child, output: () => daemon.logs.filter((line) => line !== ""), stop: () => daemon.stop() };
  } catch (error) {
    await daemon.stop();
    throw error;
  }
}

export const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 25));
};
