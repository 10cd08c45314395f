/** FsStore (runtimes/node) against the BlobStore contract, plus what only a filesystem can get wrong. */
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsStore } from "../../runtimes/node/fs-store.ts";
import { describeBlobStoreContract, fingerprint, randomBytes, readAll, streamOf } from "./contract.ts";

async function makeRoot(): Promise<{ parent: string; root: string }> {
  const parent = await mkdtemp(join(tmpdir(), "berth-fs-store-"));
  const root = join(parent, "root");
  await mkdir(root);
  return { parent, root };
}

/** Every regular file under `dir`, relative, with "/" separators. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).split("\\").join("/"))
    .sort();
}

describeBlobStoreContract("FsStore", async () => {
  const { parent, root } = await makeRoot();
  return { store: new FsStore(root), cleanup: () => rm(parent, { recursive: true, force: true }) };
});

describe("FsStore on disk", () => {
  let parent: string;
  let root: string;
  let store: FsStore;
  beforeEach(async () => {
    ({ parent, root } = await makeRoot());
    store = new FsStore(root);
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it("writes nothing outside its root during normal operation", async () => {
    await store.put("repositories/a/b/_layers/sha256/ab/link", new TextEncoder().encode("x"));
    await store.put("uploads/u1/part-1", randomBytes(1000));
    await store.put("uploads/u1/part-2", randomBytes(1000));
    await store.concat(["uploads/u1/part-1", "uploads/u1/part-2"], "blobs/sha256/ab/abcd/data");
    await store.delete("uploads/u1/part-1");
    await store.list("");
    expect(await readdir(parent)).toEqual(["root"]);
  });

  for (const key of ["../escape", "a/../../escape", "/abs/escape", "a/./b", "a//b", "", "..", "a/..", "a\\..\\..\\escape"]) {
    it(`put(${JSON.stringify(key)}) rejects or stays inside the root; nothing is written outside`, async () => {
      try {
        await store.put(key, new TextEncoder().encode("escaped?"));
      } catch {
        // rejecting an invalid key is fine
      }
      await store.get(key).catch(() => null);
      await store.delete(key).catch(() => undefined);
      await store.list(key).catch(() => null);
      expect(await readdir(parent)).toEqual(["root"]);
      expect(await readdir(join(parent, ".."))).not.toContain("escape");
    });
  }

  it("a failed put leaves no temp files behind (new key and existing key)", async () => {
    await expect(store.put("k/new", streamOf([randomBytes(200_000)], new Error("boom")))).rejects.toThrow("boom");
    expect(await filesUnder(root)).toEqual([]);
    await store.put("k/old", new TextEncoder().encode("old"));
    await expect(store.put("k/old", streamOf([randomBytes(200_000)], new Error("boom")))).rejects.toThrow("boom");
    expect(await filesUnder(root)).toEqual(["k/old"]);
  });

  it("a failed concat leaves no temp files behind", async () => {
    await store.put("up/a", randomBytes(100_000));
    await expect(store.concat(["up/a", "up/missing"], "blobs/x")).rejects.toThrow();
    expect(await filesUnder(root)).toEqual(["up/a"]);
  });

  it("a successful put leaves only the object's file", async () => {
    await store.put("one/two/three", streamOf([randomBytes(1000), randomBytes(1000)]));
    expect(await filesUnder(root)).toEqual(["one/two/three"]);
  });

  it("objects persist across FsStore instances on the same root", async () => {
    const bytes = randomBytes(5000);
    await store.put("persist/me", bytes);
    const again = new FsStore(root);
    expect(fingerprint(await readAll((await again.get("persist/me"))!.body))).toBe(fingerprint(bytes));
    expect((await again.list("persist/")).keys).toEqual(["persist/me"]);
  });

  it("a big directory's cached listing never hides a change: a key added, removed or written by another process shows on the next list", async () => {
    const tags = Array.from({ length: 400 }, (_, i) => `r/_manifests/tags/t${String(i).padStart(3, "0")}`);
    for (const key of tags) await store.put(key, new TextEncoder().encode("x"));
    const dir = join(root, "r", "_manifests", "tags");
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(dir, hourAgo, hourAgo); // still for an hour: its listing may now be cached
    expect((await store.list("r/_manifests/tags/", { startAfter: "r/_manifests/tags/t100", limit: 3 })).keys).toEqual(tags.slice(101, 104));
    await store.put("r/_manifests/tags/t1000", new TextEncoder().encode("x"));
    expect((await store.list("r/_manifests/tags/", { startAfter: "r/_manifests/tags/t100", limit: 3 })).keys).toEqual(["r/_manifests/tags/t1000", ...tags.slice(101, 103)]);
    await utimes(dir, hourAgo, new Date(Date.now() - 3_500_000));
    await store.list("r/_manifests/tags/"); // cached again at the new mtime
    await store.delete("r/_manifests/tags/t101");
    expect((await store.list("r/_manifests/tags/", { startAfter: "r/_manifests/tags/t1000", limit: 2 })).keys).toEqual(tags.slice(102, 104));
    // Another process (here: a plain file write) adds a key: the directory's mtime moves.
    await writeFile(join(dir, "t1010"), "x");
    expect((await store.list("r/_manifests/tags/", { startAfter: "r/_manifests/tags/t1000", limit: 2 })).keys).toEqual(["r/_manifests/tags/t1010", tags[102]]);
  });
});
