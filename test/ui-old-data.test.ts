// Data written before Berth stored push times stays readable in the UI's API: every store
// reports modification times (BlobStore.head's modifiedMs), and they stand in for push times.
import { describe, expect, it } from "vitest";
import { createRegistry, MemoryStore } from "../src/index.ts";
import { catalogKey, tagKey } from "../src/paths.ts";
import { readBytes } from "../src/streams.ts";
import { describeBytes, imageManifest, MT, randomBytes, sha256, utf8 } from "./http/helpers.ts";

/** A memory store whose head() also reports a modification time, as GC-capable stores do. */
class DatedStore extends MemoryStore {
  override async head(key: string) {
    const info = await super.head(key);
    return info && { ...info, modifiedMs: Date.parse("2024-05-06T07:08:09Z") };
  }
}

async function pushOldStyle(store: MemoryStore) {
  const registry = createRegistry({ store });
  const call = (path: string, init?: RequestInit) => registry.fetch(new Request(`http://registry.test${path}`, init));
  const config = utf8('{"os":"linux","architecture":"amd64"}');
  const layer = randomBytes(50);
  for (const blob of [config, layer]) {
    expect((await call(`/v2/old/app/blobs/uploads/?digest=${sha256(blob)}`, { method: "POST", body: blob })).status).toBe(201);
  }
  const manifest = imageManifest({ config: describeBytes(MT.ociConfig, config), layers: [describeBytes(MT.ociLayer, layer)] });
  for (const tag of ["a", "b"]) expect((await call(`/v2/old/app/manifests/${tag}`, { method: "PUT", body: manifest, headers: { "Content-Type": MT.ociManifest } })).status).toBe(201);
  // What older versions wrote: tag links without pushedAt, an empty catalog marker.
  for (const tag of ["a", "b"]) {
    const { pushedAt: _, ...link } = JSON.parse(new TextDecoder().decode(await readBytes((await store.get(tagKey("old/app", tag)))!)));
    await store.put(tagKey("old/app", tag), utf8(JSON.stringify(link)));
  }
  await store.put(catalogKey("old/app"), new Uint8Array(0));
  return call;
}

describe("UI API on data from before push times", () => {
  it("a store that reports modification times -> they stand in for push times", async () => {
    const call = await pushOldStyle(new DatedStore());
    const tags = await (await call("/api/ui/repositories/old/app/tags")).json();
    expect(tags.tags.map((t: { pushedAt: string }) => t.pushedAt)).toEqual(["2024-05-06T07:08:09.000Z", "2024-05-06T07:08:09.000Z"]);
  });
});
