/**
 * The storage lifecycle's rules with a controlled clock and hand-placed sweep marks, in-process
 * on the memory store: the grace period, HEAD touches, the sweep-mark handshake with manifest
 * PUT, HEAD and upload, Cron slices that resume, and retention configuration errors.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { collectGarbage, collectGarbageSlice, ConfigError, createRegistry, MemoryStore, resolveConfig, type GcOptions } from "../src/index.ts";
import { blobKey, GC_STATE_KEY, sweepMarkKey } from "../src/paths.ts";
import { newGcState, serializeGcState } from "../src/lifecycle/state.ts";
import { parseDigest } from "../src/digest.ts";
import type { Target } from "./targets/index.ts";
import { expectPullsWhole, pushLayers, statusOf } from "./http/gc-helpers.ts";
import { describeBytes, expectError, imageManifest, MT, pushBlob, randomBytes, sha256, uniqueName, utf8 } from "./http/helpers.ts";

const HOUR = 3_600_000;
const options = (overrides: Partial<GcOptions> = {}): GcOptions => ({ graceMs: HOUR, deleteUntagged: false, dryRun: false, retention: [], uploadExpiryMs: 24 * HOUR, ...overrides });

function registryOn(store: MemoryStore): Target {
  const registry = createRegistry({ store });
  return {
    name: "in-process",
    fetch: (path, init = {}) => registry.fetch(new Request(`http://registry.test${path}`, init)),
    close: async () => {},
    lifecycle: () => Promise.reject(new Error("not here")),
  };
}

/** `bytes` random bytes as lowercase hex: the hex part of a made-up digest. */
const hex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));
const pending = async (promise: Promise<unknown>) => Promise.race([promise.then(() => "settled"), settle().then(() => "pending")]);

afterEach(() => void vi.useRealTimers());

describe("grace period and touches", () => {
  it("an unreferenced blob younger than the grace period is kept; older, it is swept", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = new MemoryStore();
    const t = registryOn(store);
    const start = Date.now();
    const digest = await pushBlob(t, "lonely", randomBytes(100));
    vi.setSystemTime(start + 59 * 60_000);
    expect((await collectGarbage(store, options())).blobs).toBe(0);
    vi.setSystemTime(start + 2 * HOUR);
    expect((await collectGarbage(store, options())).blobs).toBe(1);
    expect(await statusOf(t, `/v2/lonely/blobs/${digest}`, "HEAD")).toBe(404);
  });

  it("HEAD /v2/<name>/blobs/<digest> -> 200 keeps an old unreferenced blob through the grace period, for the client's manifest PUT", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = new MemoryStore();
    const t = registryOn(store);
    const start = Date.now();
    const layer = randomBytes(300);
    const config = utf8("{}");
    await pushBlob(t, "old", layer);
    await pushBlob(t, "old", config);
    vi.setSystemTime(start + 3 * HOUR); // both are old now: a collection would take them
    expect(await statusOf(t, `/v2/old/blobs/${sha256(layer)}`, "HEAD")).toBe(200);
    expect(await statusOf(t, `/v2/old/blobs/${sha256(config)}`, "HEAD")).toBe(200);
    vi.setSystemTime(start + 3 * HOUR + 50 * 60_000); // 50 minutes later, within the hour
    const report = await collectGarbage(store, options());
    expect(report.young).toBe(2);
    const manifest = imageManifest({ config: describeBytes(MT.ociConfig, config), layers: [describeBytes(MT.ociLayer, layer)] });
    const put = await t.fetch("/v2/old/manifests/v1", { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: manifest });
    expect(put.status).toBe(201);
    expect(await statusOf(t, `/v2/old/blobs/${sha256(layer)}`)).toBe(200);
  });
});

describe("the sweep-mark handshake with the serving path", () => {
  async function markedBlob() {
    const store = new MemoryStore();
    const t = registryOn(store);
    const layer = randomBytes(200);
    const config = utf8(`{"n":${Math.random()}}`);
    await pushBlob(t, "repo", layer);
    await pushBlob(t, "repo", config);
    const key = blobKey(parseDigest(sha256(layer)));
    await store.put(sweepMarkKey(key), new Uint8Array(0)); // a collector is about to delete the layer
    const manifest = imageManifest({ config: describeBytes(MT.ociConfig, config), layers: [describeBytes(MT.ociLayer, layer)] });
    return { store, t, key, manifest, layer };
  }

  it("PUT manifest naming a blob under a sweep mark waits; the sweep removes it -> 400 MANIFEST_BLOB_UNKNOWN and no manifest, no tag", async () => {
    const { store, t, key, manifest } = await markedBlob();
    const put = t.fetch("/v2/repo/manifests/v1", { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: manifest });
    expect(await pending(put)).toBe("pending");
    await store.delete(key);
    await store.delete(sweepMarkKey(key));
    await expectError(await put, 400, "MANIFEST_BLOB_UNKNOWN");
    expect(await statusOf(t, `/v2/repo/manifests/${sha256(manifest)}`)).toBe(404);
    expect(await statusOf(t, "/v2/repo/manifests/v1")).toBe(404);
  });

  it("PUT manifest naming a blob under a sweep mark waits; the sweep keeps it -> 201", async () => {
    const { store, t, key, manifest } = await markedBlob();
    const put = t.fetch("/v2/repo/manifests/v1", { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: manifest });
    expect(await pending(put)).toBe("pending");
    await store.delete(sweepMarkKey(key));
    expect((await put).status).toBe(201);
  });

  it("HEAD blob under a sweep mark waits for the outcome: removed -> 404", async () => {
    const { store, t, key, layer } = await markedBlob();
    const head = statusOf(t, `/v2/repo/blobs/${sha256(layer)}`, "HEAD");
    expect(await pending(head)).toBe("pending");
    await store.delete(key);
    await store.delete(sweepMarkKey(key));
    expect(await head).toBe(404);
  });

  it("upload of a blob whose older copy is being swept -> 201 once the sweep settles, and the bytes are there", async () => {
    const { store, t, key, layer } = await markedBlob();
    const upload = pushBlob(t, "other", layer);
    expect(await pending(upload)).toBe("pending");
    await store.delete(key);
    await store.delete(sweepMarkKey(key));
    expect(await upload).toBe(sha256(layer));
    expect(await statusOf(t, `/v2/other/blobs/${sha256(layer)}`)).toBe(200);
  });
});

describe("Workers: collection in Cron slices", () => {
  it("slices of one step each resume from gc/state.json and collect what one whole run does", async () => {
    const store = new MemoryStore();
    const t = registryOn(store);
    const name = uniqueName("slices");
    const kept = await pushLayers(t, name, [randomBytes(500)], "kept");
    const gone = await pushLayers(t, name, [randomBytes(500)]);
    let report;
    let slices = 0;
    while (!report) {
      report = await collectGarbageSlice(store, options({ graceMs: 0, deleteUntagged: true }), 0);
      slices++;
    }
    expect(slices).toBeGreaterThan(4); // start, plan, blobs, tidy, uploads at least
    expect(report.manifests).toEqual([`${name}@${gone.digest}`]);
    expect(report.blobs).toBe(3);
    await expectPullsWhole(t, name, kept);
    // Finished: the next event starts a new collection (interval 0), which finds nothing.
    let next;
    while (!next) next = await collectGarbageSlice(store, options({ graceMs: 0, deleteUntagged: true }), 1000);
    expect(next.blobs).toBe(0);
  });
});

describe("the blob sweep's listing", () => {
  /** A memory store that counts the LISTs under blobs/ (on S3 or R2 each is a request). */
  class CountingStore extends MemoryStore {
    blobLists = 0;
    override list(prefix: string, options?: Parameters<MemoryStore["list"]>[1]) {
      if (prefix.startsWith("blobs/")) this.blobLists++;
      return super.list(prefix, options);
    }
  }

  it("an empty registry: one LIST of blobs/, not one per shard directory", async () => {
    const store = new CountingStore();
    const report = await collectGarbage(store, options({ graceMs: 0 }));
    expect(report.examined).toBe(0);
    expect(store.blobLists).toBe(1);
  });

  it("stray keys under blobs/ (another algorithm, a short hex) are passed over; the run goes on and sweeps the real blob", async () => {
    const store = new CountingStore();
    const strays = [`blobs/sha384/ab/ab${hex(47)}/data`, "blobs/sha256/ab/abc/data"];
    const real = blobKey(parseDigest(`sha256:${hex(32)}`));
    for (const key of [...strays, real]) await store.put(key, utf8("x"));
    const report = await collectGarbage(store, options({ graceMs: 0 }));
    expect(report.examined).toBe(1);
    expect(report.blobs).toBe(1);
    expect(await store.head(real)).toBeNull();
    for (const key of strays) expect(await store.head(key), key).not.toBeNull();
  });

  it("1,100 unreferenced sha256 and sha512 blobs: three pages of 500, every one examined and swept", async () => {
    const store = new CountingStore();
    const digests = [...Array.from({ length: 700 }, () => `sha256:${hex(32)}`), ...Array.from({ length: 400 }, () => `sha512:${hex(64)}`)];
    for (const digest of digests) await store.put(blobKey(parseDigest(digest)), utf8("x"));
    const report = await collectGarbage(store, options({ graceMs: 0 }));
    expect(report.examined).toBe(1100);
    expect(report.blobs).toBe(1100);
    expect(store.blobLists).toBe(3);
    for (const digest of digests) expect(await store.head(blobKey(parseDigest(digest))), digest).toBeNull();
  });
});

describe("the sweep when the store fails, and a sweep saved by an older version", () => {

  it("a blob delete that fails: the run fails, no blob is deleted after the marks start coming down, and every mark comes down", async () => {
    const keys = Array.from({ length: 40 }, () => blobKey(parseDigest(`sha256:${hex(32)}`))).sort();
    const failing = keys[3]!;
    const log: string[] = [];
    class FailingStore extends MemoryStore {
      override async delete(key: string) {
        log.push(key);
        if (key === failing) throw new Error("store down");
        return super.delete(key);
      }
    }
    const store = new FailingStore();
    for (const key of keys) await store.put(key, utf8("x"));
    await expect(collectGarbage(store, options({ graceMs: 0 }))).rejects.toThrow("store down");
    const firstUnmark = log.findIndex((key) => key.startsWith("gc/sweeping/"));
    expect(firstUnmark).toBeGreaterThan(0);
    expect(log.slice(firstUnmark).filter((key) => !key.startsWith("gc/sweeping/"))).toEqual([]);
    expect((await store.list("gc/sweeping/")).keys).toEqual([]);
    expect(await store.head(failing)).not.toBeNull();
  });

  it("a Workers state saved between two shards of the old per-shard listing resumes after them: nothing examined twice", async () => {
    const store = new MemoryStore();
    const inShard = (shard: string) => `sha256:${shard}${hex(31)}`;
    const done = inShard("00"); // examined before the state was saved, waiting in pending
    const next = inShard("05");
    for (const digest of [done, next]) await store.put(blobKey(parseDigest(digest)), utf8("x"));
    const state = newGcState(options({ graceMs: 0 }));
    Object.assign(state, { phase: "blobs", pending: [done], shard: 5 });
    state.report.examined = 1;
    await store.put(GC_STATE_KEY, utf8(serializeGcState(state)));
    let report;
    while (!report) report = await collectGarbageSlice(store, options({ graceMs: 0 }), 1000);
    expect(report.examined).toBe(2);
    expect(report.blobs).toBe(2);
    for (const digest of [done, next]) expect(await store.head(blobKey(parseDigest(digest)))).toBeNull();
  });
});

describe("retention configuration", () => {
  const withFile = (text: string) => () => resolveConfig({ file: { text, name: "berth.json" } });
  it("a rule that keeps nothing stops the start, naming it", async () => {
    await expect(withFile(`{"retention":[{"repositories":"a/*"}]}`)()).rejects.toThrow(new ConfigError("berth.json: retention[0]: keeps nothing; give keepLast, keepTags or keepWithin (a rule that deletes every tag is a mistake waiting to happen)"));
  });
  it("an unknown key, a bad count or duration -> a ConfigError naming the key", async () => {
    await expect(withFile(`{"retention":[{"repositories":"a","keepLastt":1}]}`)()).rejects.toThrow(/retention\[0\]\.keepLastt: unknown key/);
    await expect(withFile(`{"retention":[{"repositories":"a","keepLast":-1}]}`)()).rejects.toThrow(/retention\[0\]\.keepLast: expected a whole number/);
    await expect(withFile(`{"retention":[{"repositories":"a","keepWithin":"soon"}]}`)()).rejects.toThrow(/retention\[0\]\.keepWithin: expected a duration/);
  });
  it("a valid rule is typed: keepWithin in ms, keepTags a list", async () => {
    const config = await withFile(`retention:\n  - repositories: "team/**"\n    keepLast: 3\n    keepTags: latest, v*\n    keepWithin: 7d\n`)();
    expect(config.retention).toEqual([{ repositories: "team/**", keepLast: 3, keepTags: ["latest", "v*"], keepWithin: 7 * 24 * HOUR }]);
  });
});
