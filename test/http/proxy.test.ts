/**
 * The pull-through cache over HTTP, on every target, against a real upstream on loopback
 * (Berth behind a counting front, test/http/proxy-upstream.ts): misses stream and fill the
 * cache, hits never reach the upstream, Basic and Bearer upstream auth, one fetch for
 * concurrent misses, TTL revalidation, stale-if-error, a blob cut mid-body, refused pushes.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { createTarget, describeTargets, type Target } from "../targets/index.ts";
import { bodyBytes, expectError, fingerprint, pushBlob, pushImage, randomBytes, sha256, uniqueName } from "./helpers.ts";
import { startTestUpstream, UPSTREAM_PASSWORD, UPSTREAM_USER, type TestUpstream } from "./proxy-upstream.ts";

const TTL_SECONDS = 1;
const credentialsIn = (url: string) => url.replace("http://", `http://${UPSTREAM_USER}:${UPSTREAM_PASSWORD}@`);

describeTargets("pull-through cache", (kind, caps) => {
  let up: TestUpstream;
  let cache: Target;
  beforeAll(async () => {
    up = await startTestUpstream();
    // Everything under up/ comes from the upstream; other names are normal repositories.
    cache = await createTarget(kind, { upstreams: [`up=${credentialsIn(up.url)}`], upstreamTagTtlSeconds: TTL_SECONDS });
  }, 90_000);
  afterAll(async () => {
    await cache?.close();
    await up?.close();
  });
  beforeEach(async () => {
    up.auth = "none";
    up.failWith = undefined;
    if (!up.url) await up.start();
  });

  it("GET /v2/up/<name>/manifests/<tag> and blobs: a miss fills the cache, the second pull asks the upstream nothing", async () => {
    const name = uniqueName("lib");
    const image = await pushImage(up.direct, name, "v1", { layerCount: 2 });
    const manifest = await cache.fetch(`/v2/up/${name}/manifests/v1`);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get("docker-content-digest")).toBe(image.digest);
    expect(manifest.headers.get("x-berth-cache")).toBe("miss");
    expect(await manifest.text()).toBe(image.manifest);
    for (const [i, layer] of image.layers.entries()) {
      const blob = await cache.fetch(`/v2/up/${name}/blobs/${layer.digest}`);
      expect(blob.status).toBe(200);
      expect(blob.headers.get("content-length")).toBe(String(layer.size));
      expect(fingerprint(await bodyBytes(blob))).toBe(fingerprint(image.layerBytes[i]));
    }
    const before = up.requests.length;
    const again = await cache.fetch(`/v2/up/${name}/manifests/v1`);
    expect(again.headers.get("x-berth-cache")).toBe("hit");
    expect(await again.text()).toBe(image.manifest);
    const byDigest = await cache.fetch(`/v2/up/${name}/manifests/${image.digest}`, { method: "HEAD" });
    expect(byDigest.status).toBe(200);
    for (const [i, layer] of image.layers.entries()) {
      const blob = await cache.fetch(`/v2/up/${name}/blobs/${layer.digest}`);
      expect(blob.headers.get("x-berth-cache")).toBe("hit");
      expect(fingerprint(await bodyBytes(blob))).toBe(fingerprint(image.layerBytes[i]));
    }
    expect(up.requests.slice(before)).toEqual([]);
  });

  it("GET /v2/up/<name>/manifests/<tag> after the TTL: one HEAD upstream, no GET; a moved tag is fetched by digest", async () => {
    const name = uniqueName("ttl");
    const first = await pushImage(up.direct, name, "latest");
    expect((await cache.fetch(`/v2/up/${name}/manifests/latest`)).headers.get("docker-content-digest")).toBe(first.digest);
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 100));
    let before = up.requests.length;
    const same = await cache.fetch(`/v2/up/${name}/manifests/latest`);
    expect(same.headers.get("docker-content-digest")).toBe(first.digest);
    expect(up.requests.slice(before)).toEqual([`HEAD /v2/${name}/manifests/latest`]);

    const second = await pushImage(up.direct, name, "latest");
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 100));
    before = up.requests.length;
    const moved = await cache.fetch(`/v2/up/${name}/manifests/latest`);
    expect(moved.headers.get("docker-content-digest")).toBe(second.digest);
    expect(await moved.text()).toBe(second.manifest);
    expect(up.requests.slice(before)).toEqual([`HEAD /v2/${name}/manifests/latest`, `GET /v2/${name}/manifests/${second.digest}`]);
  });

  it.skipIf(!caps.oneProcess)("Bearer upstream: the token flow runs once per scope, with the configured credentials", async () => {
    const name = uniqueName("bearer");
    const image = await pushImage(up.direct, name, "v1", { layerCount: 2 });
    up.auth = "bearer";
    const tokensBefore = up.count(/^GET \/token$/);
    expect((await cache.fetch(`/v2/up/${name}/manifests/v1`)).status).toBe(200);
    for (const layer of image.layers) expect((await cache.fetch(`/v2/up/${name}/blobs/${layer.digest}`)).status).toBe(200);
    expect((await cache.fetch(`/v2/up/${name}/blobs/${image.config.digest}`)).status).toBe(200);
    expect(up.count(/^GET \/token$/) - tokensBefore).toBe(1);
  });

  it.skipIf(!caps.oneProcess)("Berth upstream with its own token auth: the cache logs in at /auth/token with the configured credentials, once per scope", async () => {
    const name = uniqueName("berthauth");
    const image = await pushImage(up.direct, name, "v1", { layerCount: 2 });
    up.auth = "berth";
    const tokensBefore = up.count(/^GET \/auth\/token$/);
    const manifest = await cache.fetch(`/v2/up/${name}/manifests/v1`);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get("docker-content-digest")).toBe(image.digest);
    for (const [i, layer] of image.layers.entries()) {
      expect(fingerprint(await bodyBytes(await cache.fetch(`/v2/up/${name}/blobs/${layer.digest}`)))).toBe(fingerprint(image.layerBytes[i]));
    }
    expect(up.count(/^GET \/auth\/token$/) - tokensBefore).toBe(1);
  });

  it("Basic upstream: credentials from the --upstream URL", async () => {
    const name = uniqueName("basic");
    const image = await pushImage(up.direct, name, "v1");
    up.auth = "basic";
    const res = await cache.fetch(`/v2/up/${name}/manifests/v1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(image.digest);
  });

  it.skipIf(!caps.oneProcess)("GET /v2/up/<name>/blobs/<digest> three times at once: the upstream sends the blob once", async () => {
    const name = uniqueName("concurrent");
    const bytes = randomBytes(3 * 1024 * 1024);
    const digest = await pushBlob(up.direct, name, bytes);
    const before = up.count(new RegExp(`^GET /v2/${name}/blobs/`));
    const results = await Promise.all([0, 1, 2].map(async () => fingerprint(await bodyBytes(await cache.fetch(`/v2/up/${name}/blobs/${digest}`)))));
    expect(results).toEqual([fingerprint(bytes), fingerprint(bytes), fingerprint(bytes)]);
    expect(up.count(new RegExp(`^GET /v2/${name}/blobs/`)) - before).toBe(1);
  });

  it("GET /v2/up/<name>/blobs/<digest>, client gone after the first bytes: the fill goes on, the next GET is a hit", async () => {
    const name = uniqueName("gone");
    const bytes = randomBytes(8 * 1024 * 1024);
    const digest = await pushBlob(up.direct, name, bytes);
    const res = await cache.fetch(`/v2/up/${name}/blobs/${digest}`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    const before = up.count(new RegExp(`^GET /v2/${name}/blobs/`));
    for (let i = 0; i < 50; i++) {
      const head = await cache.fetch(`/v2/up/${name}/blobs/${digest}`, { method: "HEAD" });
      if (head.headers.get("x-berth-cache") === "hit") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const again = await cache.fetch(`/v2/up/${name}/blobs/${digest}`);
    expect(again.headers.get("x-berth-cache")).toBe("hit");
    expect(fingerprint(await bodyBytes(again))).toBe(fingerprint(bytes));
    expect(up.count(new RegExp(`^GET /v2/${name}/blobs/`)) - before).toBe(0);
  });

  it.skipIf(!caps.oneProcess)("upstream dies mid-blob with a second GET waiting for the same fill: the first download fails, the second gets 503 UNAVAILABLE", async () => {
    const name = uniqueName("waiter");
    const bytes = randomBytes(4 * 1024 * 1024);
    const digest = await pushBlob(up.direct, name, bytes);
    let release!: () => void;
    up.holdCut = new Promise((resolve) => (release = resolve));
    up.cutNextBlobAfter = 1024 * 1024;
    try {
      const first = await cache.fetch(`/v2/up/${name}/blobs/${digest}`);
      expect(first.status).toBe(200);
      const reader = first.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      const second = cache.fetch(`/v2/up/${name}/blobs/${digest}`);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // time for the second GET to reach the cache and wait on the fill
      release();
      await expect((async () => { for (;;) if ((await reader.read()).done) return; })()).rejects.toThrow();
      const [error] = await expectError(await second, 503, "UNAVAILABLE");
      expect(error!.message).toMatch(/^upstream http:\/\/127.0.0.1:\d+ failed while sending sha256:[0-9a-f]{64}: /);
    } finally {
      up.holdCut = undefined;
      release();
    }
    expect(up.count(new RegExp(`^GET /v2/${name}/blobs/`))).toBe(1);
  });

  it("upstream killed mid-blob: the client gets an error, nothing half-cached is served, a retry succeeds", async () => {
    const name = uniqueName("cut");
    const bytes = randomBytes(4 * 1024 * 1024);
    const digest = await pushBlob(up.direct, name, bytes);
    up.cutNextBlobAfter = 1024 * 1024;
    const cut = await cache.fetch(`/v2/up/${name}/blobs/${digest}`);
    await expect(cut.arrayBuffer()).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the abandoned fill end
    await up.stop();
    const down = await cache.fetch(`/v2/up/${name}/blobs/${digest}`);
    await expectError(down, 503, "UNAVAILABLE");
    await up.start();
    const retry = await cache.fetch(`/v2/up/${name}/blobs/${digest}`);
    expect(retry.status).toBe(200);
    expect(fingerprint(await bodyBytes(retry))).toBe(fingerprint(bytes));
    expect(sha256(bytes)).toBe(digest);
  });

  it("upstream sends bytes that do not match the digest: the client's copy fails, nothing is cached, the next GET refetches", async () => {
    const name = uniqueName("corrupt");
    const bytes = randomBytes(2 * 1024 * 1024);
    const digest = await pushBlob(up.direct, name, bytes);
    up.corruptNextBlob = true;
    const bad = await cache.fetch(`/v2/up/${name}/blobs/${digest}`);
    await expect(bad.arrayBuffer()).rejects.toThrow();
    const before = up.count(new RegExp(`^GET /v2/${name}/blobs/`));
    const good = await cache.fetch(`/v2/up/${name}/blobs/${digest}`);
    expect(fingerprint(await bodyBytes(good))).toBe(fingerprint(bytes));
    expect(up.count(new RegExp(`^GET /v2/${name}/blobs/`)) - before).toBe(1);
  });

  it("upstream stopped: a cached tag past its TTL is served stale (X-Berth-Cache, Warning), blobs too; an uncached tag is a quick 503", async () => {
    const name = uniqueName("stale");
    const image = await pushImage(up.direct, name, "v1");
    expect((await cache.fetch(`/v2/up/${name}/manifests/v1`)).status).toBe(200);
    expect((await cache.fetch(`/v2/up/${name}/blobs/${image.layers[0]!.digest}`)).status).toBe(200);
    await up.stop();
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 100));
    const stale = await cache.fetch(`/v2/up/${name}/manifests/v1`);
    expect(stale.status).toBe(200);
    expect(stale.headers.get("x-berth-cache")).toBe("stale");
    expect(stale.headers.get("warning")).toMatch(/^110 /);
    expect(await stale.text()).toBe(image.manifest);
    expect(fingerprint(await bodyBytes(await cache.fetch(`/v2/up/${name}/blobs/${image.layers[0]!.digest}`)))).toBe(fingerprint(image.layerBytes[0]));
    const started = Date.now();
    const [error] = await expectError(await cache.fetch(`/v2/up/${name}/manifests/never-cached`), 503, "UNAVAILABLE");
    expect(error!.message).toMatch(/unreachable.*not cached/);
    expect(Date.now() - started).toBeLessThan(3000);
    await up.start();
  });

  it("upstream answering 503: a cached tag is served stale", async () => {
    const name = uniqueName("s503");
    const image = await pushImage(up.direct, name, "v1");
    expect((await cache.fetch(`/v2/up/${name}/manifests/v1`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 100));
    up.failWith = 503;
    const stale = await cache.fetch(`/v2/up/${name}/manifests/v1`);
    expect(stale.headers.get("x-berth-cache")).toBe("stale");
    expect(stale.headers.get("docker-content-digest")).toBe(image.digest);
  });

  it("GET /v2/up/<name>/manifests/<tag> unknown upstream -> 404 MANIFEST_UNKNOWN; GET /v2/up/<name>/tags/list comes from the upstream", async () => {
    const name = uniqueName("tags");
    await pushImage(up.direct, name, "a");
    await pushImage(up.direct, name, "b");
    await expectError(await cache.fetch(`/v2/up/${name}/manifests/nope`), 404, "MANIFEST_UNKNOWN");
    const list = await cache.fetch(`/v2/up/${name}/tags/list`);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ name: `up/${name}`, tags: ["a", "b"] });
  });

  it("GET /v2/<name>/manifests/<tag>?ns=up (containerd's mirror query) reads the upstream's <name>", async () => {
    const name = uniqueName("ns");
    const image = await pushImage(up.direct, name, "v1");
    const res = await cache.fetch(`/v2/${name}/manifests/v1?ns=up`);
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(image.digest);
    const blob = await cache.fetch(`/v2/${name}/blobs/${image.layers[0]!.digest}?ns=up`);
    expect(fingerprint(await bodyBytes(blob))).toBe(fingerprint(image.layerBytes[0]));
  });

  it("POST /v2/up/<name>/blobs/uploads/ and PUT manifests -> 403 DENIED (a proxied namespace); other names push normally", async () => {
    const name = uniqueName("push");
    const [denied] = await expectError(await cache.fetch(`/v2/up/${name}/blobs/uploads/`, { method: "POST" }), 403, "DENIED");
    expect(denied!.message).toMatch(/pull-through cache/);
    await expectError(await cache.fetch(`/v2/up/${name}/manifests/v1`, { method: "PUT", body: "{}" }), 403, "DENIED");
    await expectError(await cache.fetch(`/v2/up/${name}/manifests/v1`, { method: "DELETE" }), 403, "DENIED");
    const local = await pushImage(cache, name, "v1");
    expect((await cache.fetch(`/v2/${name}/manifests/v1`)).headers.get("docker-content-digest")).toBe(local.digest);
    expect(up.count(new RegExp(name))).toBe(0);
  });
});
