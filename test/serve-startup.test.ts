/**
 * `berth serve` with an unusable --root stops at startup with a message naming it, on Node
 * and Deno, instead of listening and answering 500 on the first push. Runs as root too: the
 * store probes with a real write; as root the unwritable-folder case drops the capabilities that
 * let root write through file modes (setpriv, util-linux), so the server, still root, meets the
 * folder's mode as any user would and can still read a checkout in a private (0700) folder.
 */
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berthServeCommand, denoBinary } from "./lib/berth-command.ts";

/** Root without CAP_DAC_OVERRIDE/DAC_READ_SEARCH/FOWNER: file modes apply to it again. */
const ROOT_WITHOUT_OVERRIDES = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"];
const asRoot = process.getuid?.() === 0;

/** Run `berth serve --root root` to its exit (or its "listening" line, which fails the test). */
function serveUntilExit(
  runtime: "node" | "deno",
  root: string,
  { obeyModes, allowWrite }: { obeyModes?: boolean; allowWrite?: boolean } = {},
): Promise<{ code: number | null; output: string }> {
  const command = berthServeCommand(runtime, { root, port: 0, allowWrite });
  const [cmd, ...args] = obeyModes && asRoot ? [...ROOT_WITHOUT_OVERRIDES, command.cmd, ...command.args] : [command.cmd, ...command.args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { env: command.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no exit within 30 s: ${output}`));
    }, 30_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
        if (/berth listening on/.test(output)) child.kill("SIGTERM"); // started: the test fails below
      });
    }
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const runtimes = (["node", "deno"] as const).filter((runtime) => runtime === "node" || denoBinary() !== null || process.env.REQUIRE_CLIENTS);

for (const runtime of runtimes) {
  describe(`berth serve on ${runtime} with an unusable --root`, () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `berth-startup-${runtime}-`));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it("--root naming a file -> exits 1 at startup, naming the root", async () => {
      const root = join(dir, "a-file");
      await writeFile(root, "not a folder");
      const { code, output } = await serveUntilExit(runtime, root);
      expect(output).not.toMatch(/listening/);
      expect(code).toBe(1);
      expect(output).toContain(`storage root ${root} is not usable`);
    });

    it("--root inside a file -> exits 1 at startup, naming the root", async () => {
      await writeFile(join(dir, "blocker"), "x");
      const root = join(dir, "blocker", "data");
      const { code, output } = await serveUntilExit(runtime, root);
      expect(code).toBe(1);
      expect(output).toContain(`storage root ${root} is not usable`);
    });

    // Root writes through any mode, so as root the server runs without the capabilities for it.
    it("--root folder the server's user may not write (mode 555) -> exits 1 at startup, naming the root", async () => {
      const root = join(dir, "read-only");
      await mkdir(root);
      await chmod(root, 0o555);
      const { code, output } = await serveUntilExit(runtime, root, { obeyModes: true });
      expect(code).toBe(1);
      expect(output).toContain(`storage root ${root} is not usable`);
    });

    it.skipIf(runtime !== "deno")("--root without --allow-write -> exits 1 at startup, naming the root and the grant", async () => {
      const root = join(dir, "not-granted");
      await mkdir(root);
      const { code, output } = await serveUntilExit(runtime, root, { allowWrite: false });
      expect(code).toBe(1);
      expect(output).toContain(`storage root ${root} is not usable`);
      expect(output).toContain("--allow-write");
    });
  });
}
