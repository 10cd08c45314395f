/** `berth serve` on Node or Deno as a child process with extra flags, its whole output kept. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { denoBinary, denoServeArgs, REPO_ROOT } from "../targets/deno.ts";
import { waitForLine } from "../targets/child-process.ts";

export interface ProcessServer {
  url: string;
  child: ChildProcess;
  /** Every line written to stdout and stderr so far. */
  output: () => string[];
}

export async function startProcessServer(kind: "node" | "deno", workDir: string, extra: string[], options: { htpasswdFile?: string; readable?: string[]; denoFlags?: string[] } = {}): Promise<ProcessServer> {
  const root = join(workDir, "root");
  await mkdir(root, { recursive: true });
  const { htpasswdFile } = options;
  const args = kind === "deno"
    ? withDenoReads(denoServeArgs({ root, htpasswdFile }), options.readable ?? []).flatMap((arg, i) => (i === 0 ? [arg, ...(options.denoFlags ?? [])] : [arg]))
    : [join(REPO_ROOT, "bin/berth.mjs"), "serve", "--root", root, "--port", "0", ...(htpasswdFile ? ["--htpasswd", htpasswdFile] : [])];
  const bin = kind === "deno" ? denoBinary()! : process.execPath;
  const child = spawn(bin, [...args, ...extra], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const url = await waitForLine(child, /listening on (https?:\/\/127\.0\.0\.1:\d+)/, `${kind} server`, 60_000);
  return { url, child, output: () => text.split("\n").filter((line) => line !== "") };
}

/** Deno: add files (config, certificates) to --allow-read, and let it fetch webhook receivers. */
function withDenoReads(args: string[], readable: string[]): string[] {
  return args.map((arg) => {
    if (arg.startsWith("--allow-read=")) return readable.length ? `${arg},${readable.join(",")}` : arg;
    if (arg.startsWith("--allow-net=")) return "--allow-net=127.0.0.1";
    return arg;
  });
}

export const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 25));
};
