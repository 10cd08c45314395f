/**
 * The cache TTL of the storage lifecycle (`gc.cacheTtl`, src/lifecycle/cache-ttl.ts): cached
 * tags of the pull-through cache that nobody pulled for the TTL are collected with what only
 * they kept; pulled ones stay (also while the upstream is down), pushed repositories are never
 * touched. In-process cache on the memory store with a controlled clock, against a real
 * upstream on loopback (test/http/proxy-upstream.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { collectGarbage, createRegistry, MemoryStore, parseArgv, resolveConfig, type GcOptions } from "../src/index.ts";
import type { Target } from "./targets/index.ts";
import { expectPullsWhole, pushLayers, statusOf } from "./http/gc-helpers.ts";
import { randomBytes, uniqueName } from "./http/helpers.ts";
import { startTestUpstream, type TestUpstream } from "./http/proxy-upstream.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const options = (overrides: Partial<GcOptions> = {}): GcOptions => ({ graceMs: HOUR, deleteUntagged: false, dryRun: false, retention: [], uploadExpiryMs: DAY, ...overrides });

let up: TestUpstream;
let upstreamDown = false;
const stopUpstream = async () => {
  await up.stop();
  upstreamDown = true;
};
beforeAll(async () => void (up = await startTestUpstream()), 60_000);
afterAll(async () => await up?.close());
afterEach(async () => {
  vi.useRealTimers();
  if (upstreamDown) await up.start();
  upstreamDown = false;
});

/** A cache of `up/` in-process; tags stay fresh for a year, so only the hourly pull marks rewrite their records. */
function cacheOn(store: MemoryStore): Target {
  const registry = createRegistry({ store, proxy: { upstreams: [{ namespace: "up", url: up.url }], tagTtlMs: 365 * DAY } });
  return {
    name: "in-process",
    fetch: (path, init = {}) => registry.fetch(new Request(`http://registry.test${path}`, init)),
    close: async () => {},
    lifecycle: () => Promise.reject(new Error("not here")),
  };
}

describe("gc.cacheTtl", () => {
  it("a cached tag not pulled for the TTL is collected with its manifest and layers; a pulled one, a pushed repository and the TTL off keep theirs", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = new MemoryStore();
    const cache = cacheOn(store);
    const name = uniqueName("lib");
    const shared = randomBytes(2000);
    const old = await pushLayers(up.direct, name, [shared, randomBytes(3000)], "old");
    const pulled = await pushLayers(up.direct, name, [shared, randomBytes(4000)], "pulled");
    const start = Date.now();
    for (const tag of ["old", "pulled"]) expect(await statusOf(cache, `/v2/up/${name}/manifests/${tag}`)).toBe(200);
    await expectPullsWhole(cache, `up/${name}`, old);
    await expectPullsWhole(cache, `up/${name}`, pulled);
    const mine = await pushLayers(cache, "mine/app", [randomBytes(500)], "v1");

    vi.setSystemTime(start + 20 * DAY);
    expect(await statusOf(cache, `/v2/up/${name}/manifests/pulled`)).toBe(200); // a fresh hit: the hourly mark rewrites the record
    vi.setSystemTime(start + 35 * DAY);
    const off = await collectGarbage(store, options());
    expect({ tags: off.tags, manifests: off.manifests, blobs: off.blobs }).toEqual({ tags: [], manifests: [], blobs: 0 });

    const report = await collectGarbage(store, options({ cacheTtlMs: 30 * DAY }));
    expect(report.tags).toEqual([`up/${name}:old`]);
    expect(report.manifests).toEqual([`up/${name}@${old.digest}`]);
    expect(report.blobs).toBe(3); // old's manifest, config and own layer; the shared layer stays for "pulled"
    await stopUpstream(); // what is left is served from the cache alone
    expect(await statusOf(cache, `/v2/up/${name}/manifests/old`)).toBe(503); // gone from the cache, and the upstream is down
    expect(await statusOf(cache, `/v2/up/${name}/manifests/pulled`)).toBe(200);
    await expectPullsWhole(cache, `up/${name}`, pulled);
    await expectPullsWhole(cache, "mine/app", mine);
  });

  it("a cached tag pulled while the upstream is down (served stale) is not collected", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = new MemoryStore();
    const registry = createRegistry({ store, proxy: { upstreams: [{ namespace: "up", url: up.url }], tagTtlMs: 60_000 } });
    const get = (path: string) => registry.fetch(new Request(`http://registry.test${path}`));
    const name = uniqueName("lib");
    const image = await pushLayers(up.direct, name, [randomBytes(1000)], "v1");
    const start = Date.now();
    expect((await get(`/v2/up/${name}/manifests/v1`)).status).toBe(200);
    await stopUpstream();
    vi.setSystemTime(start + 25 * DAY);
    const stale = await get(`/v2/up/${name}/manifests/v1`);
    expect([stale.status, stale.headers.get("x-berth-cache")]).toEqual([200, "stale"]);
    vi.setSystemTime(start + 40 * DAY);
    const report = await collectGarbage(store, options({ cacheTtlMs: 30 * DAY }));
    expect(report.tags).toEqual([]);
    expect(report.blobs).toBe(0);
    expect((await get(`/v2/up/${name}/manifests/${image.digest}`)).status).toBe(200);
  });

  it("--cache-ttl and gc.cacheTtl are durations in ms (default 0: off); a bad one stops the start naming it", async () => {
    expect((await resolveConfig({ flags: parseArgv(["gc", "--cache-ttl", "30d"]).flags })).gc.cacheTtl).toBe(30 * DAY);
    expect((await resolveConfig({ file: { text: "gc:\n  cacheTtl: 12h\n", name: "berth.yaml" } })).gc.cacheTtl).toBe(12 * HOUR);
    expect((await resolveConfig({})).gc.cacheTtl).toBe(0);
    await expect(resolveConfig({ file: { text: `{"gc":{"cacheTtl":"soon"}}`, name: "berth.json" } })).rejects.toThrow(/gc\.cacheTtl/);
  });
});
