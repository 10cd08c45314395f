// One server, a sequence of 1 GiB pushes with `sync` before each, as the bench times them:
// `npx tsx bench/tools/push-sequence.ts patch,put,put,patch [--server berth-node|berth-deno|distribution]
// [--size-mib 1024] [--memory-limit-mib N]` (Berth from dist/: `npm run build` first). Prints MB/s and
// the server's kernel CPU-seconds per GiB for each push. With --memory-limit-mib the server runs
// in a memory cgroup of that size (bench/lib/memory-cgroup.ts; root only): once its page cache
// fills the cgroup, pushes reuse reclaimed pages, the steady state of a long-running host. It shows what decides a push's speed on this VM: the
// first ~2 GiB written in a short while go into recently used pages (up to ~1.5 kernel s/GiB), later
// ones into pages the guest has not touched lately (3-4 s/GiB, ~300-350 MB/s), whatever the
// upload style and whoever writes; `dd` shows the same without any registry (README, Performance).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { BlobFactory, MiB } from "../lib/data.ts";
import { MemoryCgroup } from "../lib/memory-cgroup.ts";
import { agent } from "../lib/http.ts";
import { checkBlob, pushMonolithic, pushStreamed } from "../lib/registry.ts";
import { SERVER_KINDS } from "../lib/servers.ts";
import { settleDisk, timedPush } from "../lib/workloads.ts";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    server: { type: "string", default: "berth-node" },
    "size-mib": { type: "string", default: "1024" },
    "memory-limit-mib": { type: "string" },
  },
});
const styles = (positionals[0] ?? "patch,put,put,patch,put,put").split(",");
const kind = SERVER_KINDS.find((k) => k.name === args.server);
if (!kind) throw new Error(`unknown --server ${args.server}`);
const size = Number(args["size-mib"]) * MiB;
if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`--size-mib must be a positive whole number, not ${args["size-mib"]}`);
const limit = args["memory-limit-mib"] === undefined ? undefined : Number(args["memory-limit-mib"]) * MiB;
if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) throw new Error(`--memory-limit-mib must be a positive whole number, not ${args["memory-limit-mib"]}`);
const cgroup = limit === undefined ? undefined : MemoryCgroup.create(`berth-push-sequence-${process.pid}`, limit);
const tmp = mkdtempSync(path.join(tmpdir(), "berth-push-sequence-"));
const server = await kind.start(path.join(tmp, "root"), { repoDir: path.resolve(import.meta.dirname, "../.."), logFile: path.join(tmp, "server.log"), nodeFlags: [] })
  .catch((error) => {
    cgroup?.remove();
    throw error;
  });
const factory = new BlobFactory(64 * MiB);
try {
  cgroup?.addTree(server.pid);
  for (const [i, style] of styles.entries()) {
    const blob = factory.make(size);
    settleDisk();
    const charged = cgroup ? `, cgroup ${(cgroup.usage() / MiB).toFixed(0)} of ${(cgroup.limit / MiB).toFixed(0)} MiB before` : "";
    const { ms, sysPerGiB } = await timedPush(server, size, () => (style === "put" ? pushMonolithic : pushStreamed)(server.url, "sequence/blob", blob));
    const seconds = ms / 1000;
    await checkBlob(server.url, "sequence/blob", blob);
    console.log(`${i + 1} ${style.padEnd(5)} ${(size / 1e6 / seconds).toFixed(0).padStart(5)} MB/s, server kernel ${sysPerGiB.toFixed(2)} CPU-s/GiB${charged}`);
  }
} finally {
  await server.stop();
  agent.destroy();
  rmSync(tmp, { recursive: true, force: true });
  cgroup?.remove();
}
