/**
 * Stores written before the repository index moved (catalog/<name>/_repo, src/paths.ts)
 * stay readable: the first catalog request, or a repository missing from the new index,
 * moves the old keys over; nothing is lost and the catalog is in name order.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FsStore } from "../runtimes/node/fs-store.ts";
import { createRegistry, MemoryStore, type BlobStore } from "../src/index.ts";
import { readBytes } from "../src/streams.ts";
import { pushImage } from "./http/helpers.ts";
import type { Target } from "./targets/index.ts";

const NAMES = ["a", "a-b", "a/b", "lib/alpine", "z"];

function targetOn(store: BlobStore): Target {
  const registry = createRegistry({ store });
  return { name: "in-process", fetch: (path, init) => registry.fetch(new Request(`http://registry.test${path}`, init)), close: async () => {}, lifecycle: () => Promise.reject(new Error("no lifecycle command")) };
}

/** Push with the current code, then rewrite its index into the first layout, as an old Berth left it. */
async function legacyStore(store: BlobStore): Promise<void> {
  const target = targetOn(store);
  for (const name of NAMES) await pushImage(target, name, "v1");
  for (const [i, name] of NAMES.entries()) {
    await store.delete(`repositories-index/${name}+`);
    // Older markers are empty, newer ones hold bytes (the last push time): both must survive.
    await store.put(`catalog/${name}/_repo`, i % 2 ? new TextEncoder().encode(`{"marker":"${name}"}`) : new Uint8Array(0));
  }
  expect((await store.list("repositories-index/")).keys).toEqual([]);
}

for (const [label, make] of [
  ["MemoryStore", async () => ({ store: new MemoryStore() as BlobStore, done: async () => {} })],
  ["FsStore", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-migration-"));
    return { store: new FsStore(dir) as BlobStore, done: () => rm(dir, { recursive: true, force: true }) };
  }],
] as const) {
  describe(`repository index migration (${label})`, () => {
    it("GET /v2/_catalog on a store of the old layout -> every repository, in name order; the old keys are gone", async () => {
      const { store, done } = await make();
      try {
        await legacyStore(store);
        const res = await targetOn(store).fetch("/v2/_catalog?n=2");
        expect((await res.json()).repositories).toEqual(["a", "a-b"]);
        expect((await (await targetOn(store).fetch("/v2/_catalog")).json()).repositories).toEqual([...NAMES].sort());
        expect((await store.list("catalog/")).keys).toEqual([]);
      } finally {
        await done();
      }
    });

    it("GET /v2/<name>/tags/list on a store of the old layout (no catalog request first) -> the tags", async () => {
      const { store, done } = await make();
      try {
        await legacyStore(store);
        const res = await targetOn(store).fetch("/v2/lib/alpine/tags/list");
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ name: "lib/alpine", tags: ["v1"] });
        expect((await store.list("repositories-index/")).keys).toEqual(NAMES.map((name) => `repositories-index/${name}+`).sort());
        const moved = await store.get("repositories-index/a-b+");
        expect(new TextDecoder().decode(await readBytes(moved!))).toBe('{"marker":"a-b"}');
      } finally {
        await done();
      }
    });
  });
}
