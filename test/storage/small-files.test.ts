/**
 * FileTreeStore's cache of small whole files (src/storage/small-files.ts): a kept file is
 * served from memory only while its stat (inode, size, mtime, ctime) is unchanged, and only a
 * file that had been still for the window when read is kept. Real files through node:fs;
 * then two processes (Node and Deno) on one folder, where one retags and the other answers.
 */
import { mkdtempSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nodeFileSystem } from "../../runtimes/node/fs-store.ts";
import { SmallFileCache } from "../../src/storage/small-files.ts";
import { readBytes } from "../../src/streams.ts";
import type { FileSystem } from "../../src/storage/file-system.ts";
import { denoBinary } from "../lib/berth-command.ts";
import { startProcessServer } from "../ops/process-server.ts";
import { pushImage } from "../http/helpers.ts";
import type { Target } from "../targets/index.ts";

const STILL_MS = 100;
const dir = mkdtempSync(join(tmpdir(), "berth-small-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** node:fs, counting the opens: a read served from memory opens nothing. */
function countingFs(): { fs: FileSystem; opens: () => number } {
  let opens = 0;
  const fs: FileSystem = { ...nodeFileSystem, openRead: (path, range) => (opens++, nodeFileSystem.openRead(path, range)) };
  return { fs, opens: () => opens };
}

const text = async (cache: SmallFileCache, path: string) => new TextDecoder().decode(await readBytes(await cache.read(path)));
const digestText = (c: string) => `sha256:${c.repeat(64)}`; // a tag file's content: always the same length

describe("SmallFileCache", () => {
  it("a file still for longer than the window is read once and then served while unchanged", async () => {
    const path = join(dir, "still");
    writeFileSync(path, digestText("a"));
    await sleep(STILL_MS + 20);
    const { fs, opens } = countingFs();
    const cache = new SmallFileCache(fs, STILL_MS);
    for (let i = 0; i < 5; i++) expect(await text(cache, path)).toBe(digestText("a"));
    expect(opens()).toBe(1);
  });

  it("a file changed within the window of its read is not kept", async () => {
    const path = join(dir, "fresh");
    writeFileSync(path, digestText("a"));
    const { fs, opens } = countingFs();
    const cache = new SmallFileCache(fs, 10_000);
    for (let i = 0; i < 3; i++) expect(await text(cache, path)).toBe(digestText("a"));
    expect(opens()).toBe(3);
  });

  it("every kind of change after the read is seen at the next read: a rename over it, a write in place, a touch back to the old mtime, a delete", async () => {
    const path = join(dir, "changing");
    writeFileSync(path, digestText("a"));
    await sleep(STILL_MS + 20);
    const { fs, opens } = countingFs();
    const cache = new SmallFileCache(fs, STILL_MS);
    expect(await text(cache, path)).toBe(digestText("a"));

    // How Berth (any process) replaces a file: a new one renamed over it.
    writeFileSync(join(dir, "temp"), digestText("b"));
    renameSync(join(dir, "temp"), path);
    expect(await text(cache, path)).toBe(digestText("b"));

    // Someone else's write in place, same size, with its mtime set back: only the ctime moved.
    const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000); // whole seconds: set back exactly
    utimesSync(path, mtime, mtime);
    await sleep(STILL_MS + 20);
    expect(await text(cache, path)).toBe(digestText("b"));
    const opensWhenKept = opens();
    expect(await text(cache, path)).toBe(digestText("b"));
    expect(opens()).toBe(opensWhenKept); // kept again: what follows is a change the cache must see
    const kept = statSync(path);
    writeFileSync(path, digestText("c"));
    utimesSync(path, mtime, mtime);
    const now = statSync(path);
    expect([now.ino, now.size, now.mtimeMs]).toEqual([kept.ino, kept.size, kept.mtimeMs]);
    expect(now.ctimeMs).not.toBe(kept.ctimeMs);
    expect(await text(cache, path)).toBe(digestText("c"));

    const opensBeforeDelete = opens();
    unlinkSync(path);
    const missing = await cache.read(path).then(() => null, (error: unknown) => error);
    expect(nodeFileSystem.isMissing(missing)).toBe(true);
    expect(opens()).toBe(opensBeforeDelete); // the stat said so: nothing to open
  });

  it("a file of 4 KiB is kept, one byte more is read every time", async () => {
    writeFileSync(join(dir, "4096"), "x".repeat(4096));
    writeFileSync(join(dir, "4097"), "x".repeat(4097));
    await sleep(STILL_MS + 20);
    for (const size of [4096, 4097]) {
      const { fs, opens } = countingFs();
      const cache = new SmallFileCache(fs, STILL_MS);
      for (let i = 0; i < 3; i++) expect((await text(cache, join(dir, String(size)))).length).toBe(size);
      expect(opens()).toBe(size === 4096 ? 1 : 3);
    }
  });

  it("where the platform's stat has no inode or ctime, every read opens the file", async () => {
    const path = join(dir, "no-ino");
    writeFileSync(path, digestText("a"));
    await sleep(STILL_MS + 20);
    const { fs, opens } = countingFs();
    const cache = new SmallFileCache({ ...fs, stat: async (p) => ({ ...(await fs.stat(p)), ino: undefined, ctimeMs: undefined }) }, STILL_MS);
    for (let i = 0; i < 3; i++) expect(await text(cache, path)).toBe(digestText("a"));
    expect(opens()).toBe(3);
  });
});

const runtimes = ["node", ...(denoBinary() !== null || process.env.REQUIRE_CLIENTS ? ["deno" as const] : [])] as const;

describe("two processes on one folder", () => {
  for (const reader of runtimes) {
    it(`a tag retagged, then deleted, by one process is answered at once by the other (${reader}), the old tag read there more than 2 s after its push`, async () => {
      const work = mkdtempSync(join(tmpdir(), `berth-small-files-${reader}-`));
      const writer = await startProcessServer("node", work, ["--quiet"]);
      const answering = await startProcessServer(reader, work, ["--quiet"]);
      try {
        const targetOf = (url: string): Target => ({ name: url, fetch: (p, init) => fetch(url + p, init), close: async () => {}, lifecycle: async () => "" });
        const tagOf = async (url: string) => {
          const response = await fetch(`${url}/v2/shared/app/manifests/v1`, { method: "HEAD", headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
          return response.status === 200 ? response.headers.get("docker-content-digest") : response.status;
        };
        const first = await pushImage(targetOf(writer.url), "shared/app", "v1");
        await sleep(2_200); // past the 2 s window: the answering process may keep the tag file now
        for (let i = 0; i < 3; i++) expect(await tagOf(answering.url)).toBe(first.digest);

        const second = await pushImage(targetOf(writer.url), "shared/app", "v1");
        expect(second.digest).not.toBe(first.digest);
        expect(await tagOf(answering.url)).toBe(second.digest);

        expect((await fetch(`${writer.url}/v2/shared/app/manifests/v1`, { method: "DELETE" })).status).toBe(202);
        expect(await tagOf(answering.url)).toBe(404);
      } finally {
        await Promise.all([writer.stop(), answering.stop()]);
        rmSync(work, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
