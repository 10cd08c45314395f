/**
 * DenoStore (runtimes/deno, Deno's file APIs) against the BlobStore contract. The store only
 * exists inside Deno, so runtimes/deno/test-store-server.ts serves it over HTTP (store-rpc)
 * with read/write permission for one temp folder only, and the suite talks to it through
 * RemoteStore. Skipped when no deno executable is installed (unless REQUIRE_CLIENTS=1).
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FsStore } from "../../runtimes/node/fs-store.ts";
import { DENO_CONFIG, denoBinary, REPO_ROOT } from "../lib/berth-command.ts";
import { runToEnd, startDaemon, type Daemon } from "../lib/daemon.ts";
import { describeBlobStoreContract, randomBytes, readAll, streamOf } from "./contract.ts";
import { RemoteStore } from "./store-rpc.ts";

const bin = denoBinary();
const run = bin !== null || !!process.env.REQUIRE_CLIENTS;

let parent = "";
let baseUrl = "";
let server: Daemon | undefined;
let stores = 0;

/** A fresh store: its own folder under the server's root. */
function nextStore(): { id: string; dir: string; store: RemoteStore } {
  const id = `store-${++stores}`;
  return { id, dir: join(parent, id), store: new RemoteStore(`${baseUrl}/stores/${id}`) };
}

/** Every regular file under `dir`, relative, with "/" separators. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** Server-side cleanup after a failed request runs after the client saw the failure. */
async function eventually(check: () => Promise<void>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe.skipIf(!run)("DenoStore", () => {
  beforeAll(async () => {
    if (!bin) throw new Error("REQUIRE_CLIENTS=1 but no deno executable (npm ci installs one; or set DENO_BIN)");
    parent = await mkdtemp(join(tmpdir(), "berth-deno-store-"));
    const args = [
      "run", "--config", DENO_CONFIG, "--no-prompt",
      "--allow-net=127.0.0.1:0", `--allow-read=${parent}`, `--allow-write=${parent}`,
      join(REPO_ROOT, "runtimes/deno/test-store-server.ts"), parent,
    ];
    server = startDaemon(bin, args, { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1" } });
    baseUrl = (await server.waitForLine(/listening on (http:\/\/\S+)/, 60_000))[1]!.replace(/\/$/, "");
  }, 90_000);

  afterAll(async () => {
    if (server) await server.stop(5_000);
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  describeBlobStoreContract(
    "DenoStore (Deno.open, via store-rpc)",
    async () => {
      const { dir, store } = nextStore();
      return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
    // A failing body stream reaches Deno as a dropped request, not as the same Error object.
    { errorsCrossProcess: true },
  );

  describe("DenoStore on disk", () => {
    let dir: string;
    let store: RemoteStore;
    beforeEach(() => {
      ({ dir, store } = nextStore());
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("writes nothing outside its root; a successful put leaves only the object's file", async () => {
      await store.put("one/two/three", streamOf([randomBytes(1000), randomBytes(1000)]));
      await store.put("uploads/u1/part-1", randomBytes(1000));
      await store.put("uploads/u1/part-2", randomBytes(1000));
      await store.concat(["uploads/u1/part-1", "uploads/u1/part-2"], "blobs/sha256/ab/abcd/data");
      await store.delete("uploads/u1/part-1");
      await store.delete("uploads/u1/part-2");
      expect(await filesUnder(dir)).toEqual(["blobs/sha256/ab/abcd/data", "one/two/three"]);
      expect((await readdir(parent)).every((name) => name.startsWith("store-"))).toBe(true);
    });

    it("a put whose body fails midway leaves no temp file and keeps the old object", async () => {
      await store.put("k/old", new TextEncoder().encode("old"));
      await expect(store.put("k/old", streamOf([randomBytes(300_000)], new Error("boom")))).rejects.toThrow();
      await eventually(async () => expect(await filesUnder(dir)).toEqual(["k/old"]));
      expect(new TextDecoder().decode(await readAll((await store.get("k/old"))!.body))).toBe("old");
    });

    it("a failed concat leaves no temp file", async () => {
      await store.put("up/a", randomBytes(100_000));
      await expect(store.concat(["up/a", "up/missing"], "blobs/x")).rejects.toThrow();
      expect(await filesUnder(dir)).toEqual(["up/a"]);
    });

    it("lays files out like the Node FsStore: either runtime serves the other's folder", async () => {
      const bytes = randomBytes(300_000);
      await store.put("blobs/sha256/cd/cdef/data", bytes);
      const node = new FsStore(dir);
      expect(await readAll((await node.get("blobs/sha256/cd/cdef/data"))!.body)).toEqual(bytes);
      await node.put("repositories/x/_manifests/tags/v1", new TextEncoder().encode("sha256:cdef"));
      expect((await store.list("repositories/x/")).keys).toEqual(["repositories/x/_manifests/tags/v1"]);
      const middle = await store.get("blobs/sha256/cd/cdef/data", { offset: 1234, length: 100_000 });
      expect(await readAll(middle!.body)).toEqual(bytes.subarray(1234, 101_234));
      const tail = await store.get("blobs/sha256/cd/cdef/data", { offset: 299_990, length: 10 });
      expect(await readAll(tail!.body)).toEqual(bytes.subarray(299_990));
    });

    it("get(key, range) is a byte stream: read into the reader's own buffers, one read each; a file that shrank fails it", async () => {
      // In Deno itself (the RPC hop would hide the stream's kind): the HTTP adapter sends a big
      // body in reused buffers only when it is a byte stream (runtimes/shared/send-body.ts).
      const script = `
        import { DenoStore } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, "runtimes/deno/deno-store.ts")).href)};
        const store = new DenoStore(${JSON.stringify(dir)});
        const bytes = crypto.getRandomValues(new Uint8Array(60_000)).map((b, i) => b ^ (i >> 8));
        const blob = new Uint8Array(3 * 1024 * 1024).map((_, i) => bytes[i % bytes.length]);
        await store.put("blobs/b/data", blob);
        const ranged = await store.get("blobs/b/data", { offset: 100_000, length: 2_500_000 });
        const reader = ranged.body.getReader({ mode: "byob" });
        let buffer = new Uint8Array(1024 * 1024);
        let reads = 0, at = 100_000, same = true;
        for (;;) {
          const { done, value } = await reader.read(buffer);
          if (done) break;
          reads++;
          for (let i = 0; i < value.byteLength; i += 997) same &&= value[i] === blob[at + i];
          at += value.byteLength;
          buffer = new Uint8Array(value.buffer);
        }
        const shrinking = await store.get("blobs/b/data", { offset: 0, length: 3 * 1024 * 1024 });
        await Deno.truncate(${JSON.stringify(join(dir, "blobs/b/data"))}, 1000);
        const failure = await shrinking.body.pipeTo(new WritableStream()).then(() => "none", (e) => e.message);
        console.log(JSON.stringify({ reads, received: at - 100_000, same, failure }));
      `;
      const out = await runToEnd(bin!, ["eval", "--config", DENO_CONFIG, script], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1" } });
      expect(JSON.parse(out)).toEqual({ reads: 3, received: 2_500_000, same: true, failure: expect.stringMatching(/short/) });
    });

    it("delete prunes the directories it empties, up to the root", async () => {
      await store.put("a/b/c/d", randomBytes(10));
      await store.put("a/keep", randomBytes(10));
      await store.delete("a/b/c/d");
      expect(await readdir(join(dir, "a"))).toEqual(["keep"]);
    });
  });
});
