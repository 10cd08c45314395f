// Shared by the before/after tools (ab-*.ts): `berth serve` from each built checkout given on
// the command line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { agent } from "../lib/http.ts";
import { type RunningServer, SERVER_KINDS } from "../lib/servers.ts";

export interface Checkout {
  dir: string;
  s: RunningServer;
}

/**
 * Start one Berth per checkout folder: on Node (`berth-node`: each with bin/berth.mjs and dist/
 * built) or on Deno (`berth-deno`: its runtimes/deno/main.ts, with the bench's permissions).
 */
export async function startCheckouts(dirs: string[], kindName: "berth-node" | "berth-deno" = "berth-node"): Promise<{ servers: Checkout[]; stop: () => Promise<void> }> {
  const tmp = mkdtempSync(path.join(tmpdir(), "berth-ab-"));
  const kind = SERVER_KINDS.find((k) => k.name === kindName)!;
  const servers: Checkout[] = [];
  const stop = async () => {
    for (const { s } of servers) await s.stop();
    agent.destroy();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    for (const [i, dir] of dirs.entries()) {
      servers.push({ dir, s: await kind.start(path.join(tmp, `root${i}`), { repoDir: path.resolve(dir), logFile: path.join(tmp, `log${i}`), nodeFlags: [] }) });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { servers, stop };
}
