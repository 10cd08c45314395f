/**
 * The web UI over HTTP: the page and its assets (content-hashed, cached), the JSON API at
 * /api/ui/ (push dates, sizes, platforms, referrers, pagination, errors), the access check
 * it shares with /v2/ (hidden repositories, canDelete, read-only users), --no-ui and CORS.
 * The browser itself is driven in test/e2e/ui.e2e.test.ts.
 */
import bcrypt from "bcryptjs";
import { beforeAll, describe, expect, it } from "vitest";
import { describeTargets, useTarget, type Target } from "../targets/index.ts";
import {
  basicAuth, describeBytes, expectError, imageManifest, indexManifest, MT, pushEmptyConfig, pushImage, pushManifest, pushBlob, uniqueName, utf8,
} from "./helpers.ts";

const ALICE = basicAuth("alice", "al1ce-pw");
const READER = basicAuth("reader", "r3ader-pw");
const HTPASSWD = `alice:${bcrypt.hashSync("al1ce-pw", 4)}\nreader:${bcrypt.hashSync("r3ader-pw", 4)}\n`;
const SIG_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json";

const getJson = async (t: Target, path: string, headers: Record<string, string> = {}) => {
  const res = await t.fetch(path, { headers });
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return res.json() as Promise<any>;
};

describeTargets("web UI", (kind) => {
  const target = useTarget(kind);

  it("GET / and GET /ui/<any view> -> the page, naming content-hashed assets served immutable", async () => {
    for (const path of ["/", "/ui/", "/ui/r/some/repo/-/latest"]) {
      const res = await target().fetch(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const html = await res.text();
      const assets = [...html.matchAll(/\/ui\/assets\/([\w.-]+)/g)].map((m) => m[1]!);
      expect(assets.map((a) => a.replace(/\.[0-9a-f]{12}\./, ".*."))).toEqual(["style.*.css", "app.*.js"]);
      for (const asset of assets) {
        const a = await target().fetch(`/ui/assets/${asset}`);
        expect(a.status).toBe(200);
        expect(a.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        expect(a.headers.get("content-type")).toMatch(asset.endsWith(".js") ? /^text\/javascript/ : /^text\/css/);
        const etag = a.headers.get("etag")!;
        expect((await a.text()).length).toBeGreaterThan(500);
        const again = await target().fetch(`/ui/assets/${asset}`, { headers: { "If-None-Match": etag } });
        expect(again.status).toBe(304);
      }
    }
    expect((await target().fetch("/ui/assets/app.000000000000.js")).status).toBe(404);
  });

  describe("GET /api/ui/...", () => {
    const ns = uniqueName("ui");
    const names = { app: `${ns}/app`, multi: `${ns}/multi`, solo: `${ns}-solo` };
    let image: Awaited<ReturnType<typeof pushImage>>;
    let indexDigest: string;
    let signatureDigest: string;
    const before = new Date(Date.now() - 1000).toISOString();

    beforeAll(async () => {
      const t = target();
      image = await pushImage(t, names.app, "1.0", { layerCount: 2 });
      await new Promise((r) => setTimeout(r, 15));
      await pushImage(t, names.app, "2.0", { layerCount: 1 });
      const amd = await pushImage(t, names.multi);
      const arm = await pushImage(t, names.multi);
      const index = indexManifest({
        manifests: [
          { mediaType: MT.ociManifest, digest: amd.digest, size: amd.size, platform: { os: "linux", architecture: "amd64" } },
          { mediaType: MT.ociManifest, digest: arm.digest, size: arm.size, platform: { os: "linux", architecture: "arm64" } },
        ],
      });
      indexDigest = (await pushManifest(t, names.multi, "latest", index, MT.ociIndex)).digest;
      const config = await pushEmptyConfig(t, names.app);
      const payload = utf8('{"critical":{}}');
      await pushBlob(t, names.app, payload);
      const sig = imageManifest({
        config, layers: [describeBytes("application/octet-stream", payload)], artifactType: SIG_TYPE,
        subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
      });
      signatureDigest = (await pushManifest(t, names.app, `sha256-${image.digest.slice(7)}.sig`, sig)).digest;
      await pushImage(t, names.solo, "v1");
    });

    it("GET /api/ui/repositories?q= -> names, namespaces, tag counts and push times, paginated by last", async () => {
      const all = await getJson(target(), `/api/ui/repositories?q=${ns}`);
      // uniqueName is "ui/<random>": solo sits in "ui", and "-" sorts before "/".
      expect(all.repositories.map((r: any) => [r.name, r.namespace, r.tagCount])).toEqual([
        [names.solo, "ui", 1], [names.app, ns, 3], [names.multi, ns, 1],
      ]);
      for (const r of all.repositories) expect(r.pushedAt > before && r.pushedAt <= new Date().toISOString()).toBe(true);
      expect(all.next).toBeNull();
      const first = await getJson(target(), `/api/ui/repositories?q=${ns}&n=2`);
      expect(first.repositories.map((r: any) => r.name)).toEqual([names.solo, names.app]);
      expect(first.next).toBe(names.app);
      const second = await getJson(target(), `/api/ui/repositories?q=${ns}&n=2&last=${encodeURIComponent(first.next)}`);
      expect(second.repositories.map((r: any) => r.name)).toEqual([names.multi]);
      expect(second.next).toBeNull();
    });

    it("GET /api/ui/repositories/<name>/tags -> digest, size of the layers, shared bytes, dates; sort=date newest first", async () => {
      const byName = await getJson(target(), `/api/ui/repositories/${names.app}/tags`);
      expect(byName.tagCount).toBe(3);
      expect(byName.canDelete).toBe(true);
      const [one, two, sig] = byName.tags;
      expect([one.tag, two.tag, sig.tag]).toEqual(["1.0", "2.0", `sha256-${image.digest.slice(7)}.sig`]);
      expect(one.digest).toBe(image.digest);
      expect(one.size).toBe(image.layers.reduce((sum, layer) => sum + layer.size, 0));
      expect(one.sharedSize).toBe(0);
      expect(one.platforms).toEqual([{ os: "linux", architecture: "amd64" }]);
      expect(sig.artifactType).toBe(SIG_TYPE);
      expect(two.pushedAt > one.pushedAt).toBe(true);
      const byDate = await getJson(target(), `/api/ui/repositories/${names.app}/tags?sort=date&n=2`);
      expect(byDate.tags.map((t: any) => t.tag)).toEqual([sig.tag, "2.0"]);
      expect(byDate.next).toBe(2);
      const rest = await getJson(target(), `/api/ui/repositories/${names.app}/tags?sort=date&n=2&offset=2`);
      expect(rest.tags.map((t: any) => t.tag)).toEqual(["1.0"]);
      expect(rest.next).toBeNull();
      const paged = await getJson(target(), `/api/ui/repositories/${names.app}/tags?n=1&last=1.0`);
      expect(paged.tags.map((t: any) => t.tag)).toEqual(["2.0"]);
      expect(paged.next).toBe("2.0");
    });

    it("GET /api/ui/repositories/<name>/tags of an index -> its platforms and the layers of every child", async () => {
      const { tags } = await getJson(target(), `/api/ui/repositories/${names.multi}/tags`);
      expect(tags).toHaveLength(1);
      expect(tags[0].digest).toBe(indexDigest);
      expect(tags[0].platforms).toEqual([{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }]);
      expect(tags[0].size).toBe(100 + 100); // one 100-byte layer per child
    });

    it("GET /api/ui/repositories/<name>/manifests/<tag> -> config, layers, referrers and the raw bytes", async () => {
      const m = await getJson(target(), `/api/ui/repositories/${names.app}/manifests/1.0`);
      expect(m).toMatchObject({ name: names.app, tag: "1.0", digest: image.digest, mediaType: MT.ociManifest, size: image.size });
      expect(m.raw).toBe(image.manifest);
      expect(m.config).toMatchObject({ os: "linux", architecture: "amd64" });
      expect(m.layers.map((l: any) => l.digest)).toEqual(image.layers.map((l) => l.digest));
      expect(m.referrers).toEqual([expect.objectContaining({ digest: signatureDigest, artifactType: SIG_TYPE })]);
      expect(m.pushedAt > before).toBe(true);
      const byDigest = await getJson(target(), `/api/ui/repositories/${names.multi}/manifests/${indexDigest}`);
      expect(byDigest.tag).toBeNull();
      expect(byDigest.children.map((c: any) => c.platform.architecture)).toEqual(["amd64", "arm64"]);
      expect(byDigest.layers).toBeUndefined();
    });

    it("GET /api/ui/... of unknown things and bad queries -> OCI errors", async () => {
      await expectError(await target().fetch(`/api/ui/repositories/${ns}/nothing/tags`), 404, "NAME_UNKNOWN");
      await expectError(await target().fetch(`/api/ui/repositories/${names.app}/manifests/nope`), 404, "MANIFEST_UNKNOWN");
      await expectError(await target().fetch(`/api/ui/repositories/${names.app}/manifests/sha256:${"0".repeat(64)}`), 404, "MANIFEST_UNKNOWN");
      await expectError(await target().fetch(`/api/ui/repositories/${names.app}/manifests/bad!tag`), 400, "TAG_INVALID");
      await expectError(await target().fetch(`/api/ui/repositories/UPPER/tags`), 400, "NAME_INVALID");
      await expectError(await target().fetch(`/api/ui/repositories?n=0`), 400, "PAGINATION_NUMBER_INVALID");
      await expectError(await target().fetch(`/api/ui/repositories/${names.app}/tags?n=x`), 400, "PAGINATION_NUMBER_INVALID");
      await expectError(await target().fetch(`/api/ui/repositories/${names.app}/tags?sort=size`), 400, "UNSUPPORTED");
    });
  });
});

describeTargets("web UI with htpasswd", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD } });
  const name = uniqueName("ui-private");
  beforeAll(async () => {
    await pushImage(withAuth(target(), ALICE), name, "v1");
  });

  it("GET /api/ui/repositories anonymously -> none of the private repositories; signed in -> them", async () => {
    expect((await getJson(target(), "/api/ui/repositories")).repositories).toEqual([]);
    const signedIn = await getJson(target(), "/api/ui/repositories", { Authorization: ALICE });
    expect(signedIn.repositories.map((r: any) => r.name)).toContain(name);
    await expectError(await target().fetch(`/api/ui/repositories/${name}/tags`), 401, "UNAUTHORIZED");
    await expectError(await target().fetch(`/api/ui/repositories/${name}/tags`, { headers: { Authorization: basicAuth("alice", "wrong") } }), 401, "UNAUTHORIZED");
    expect((await getJson(target(), `/api/ui/repositories/${name}/tags`, { Authorization: ALICE })).canDelete).toBe(true);
  });

  it("GET / without credentials -> the page (it asks for sign-in itself)", async () => {
    expect((await target().fetch("/")).status).toBe(200);
  });
});

describeTargets("web UI with anonymous pull", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, anonymousPull: true } });
  it("anonymous: sees the repository, canDelete false, and DELETE /v2/<name>/manifests/<tag> -> 401", async () => {
    const name = uniqueName("ui-public");
    await pushImage(withAuth(target(), ALICE), name, "v1");
    expect((await getJson(target(), "/api/ui/repositories")).repositories.map((r: any) => r.name)).toContain(name);
    const tags = await getJson(target(), `/api/ui/repositories/${name}/tags`);
    expect(tags.canDelete).toBe(false);
    expect((await getJson(target(), `/api/ui/repositories/${name}/manifests/v1`)).canDelete).toBe(false);
    await expectError(await target().fetch(`/v2/${name}/manifests/v1`, { method: "DELETE" }), 401, "UNAUTHORIZED");
  });
});

describeTargets("web UI with a read-only user", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, readOnlyUsers: ["reader"] } });
  it("read-only user: canDelete false and DELETE /v2/<name>/manifests/<tag> -> 403 DENIED", async () => {
    const name = uniqueName("ui-ro");
    await pushImage(withAuth(target(), ALICE), name, "v1");
    expect((await getJson(target(), `/api/ui/repositories/${name}/tags`, { Authorization: READER })).canDelete).toBe(false);
    await expectError(await target().fetch(`/v2/${name}/manifests/v1`, { method: "DELETE", headers: { Authorization: READER } }), 403, "DENIED");
  });
}, ["authOptions"]);

describeTargets("web UI with a per-repository authorizer", (kind) => {
  // Only public/* is open to anonymous callers; a signed-in header opens the rest.
  const target = useTarget(kind, {
    auth: { authorize: (request, { name, action }) => request.headers.get("x-user") === "ci" || ((action === "pull" || action === "catalog") && (name === "" || name.startsWith("public/"))) },
  });
  it("GET /api/ui/repositories -> only what the caller may pull", async () => {
    const ci = withHeaders(target(), { "x-user": "ci" });
    await pushImage(ci, "public/one", "v1");
    await pushImage(ci, "private/two", "v1");
    expect((await getJson(target(), "/api/ui/repositories")).repositories.map((r: any) => r.name)).toEqual(["public/one"]);
    expect((await getJson(ci, "/api/ui/repositories")).repositories.map((r: any) => r.name)).toEqual(["private/two", "public/one"]);
    await expectError(await target().fetch("/api/ui/repositories/private/two/manifests/v1"), 401, "UNAUTHORIZED");
  });
}, ["customAuthorizer"]);

describeTargets("web UI options", (kind) => {
  describe("--no-ui", () => {
    const target = useTarget(kind, { ui: false });
    it("GET / and /api/ui/repositories -> 404; /v2/ still answers", async () => {
      await expectError(await target().fetch("/"), 404, "UNSUPPORTED");
      await expectError(await target().fetch("/ui/"), 404, "UNSUPPORTED");
      await expectError(await target().fetch("/api/ui/repositories"), 404, "UNSUPPORTED");
      expect((await target().fetch("/v2/")).status).toBe(200);
    });
  });

  describe("--cors-origins", () => {
    const target = useTarget(kind, { auth: { htpasswd: HTPASSWD }, corsOrigins: ["https://ui.example.com"] });
    it("OPTIONS preflight without credentials -> 204 with the allowed origin, never 401", async () => {
      const res = await target().fetch("/v2/some/repo/manifests/latest", {
        method: "OPTIONS",
        headers: { Origin: "https://ui.example.com", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "authorization" },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe("https://ui.example.com");
      expect(res.headers.get("access-control-allow-methods")).toContain("DELETE");
      expect(res.headers.get("access-control-allow-headers")).toBe("authorization");
      const other = await target().fetch("/v2/", { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" } });
      expect(other.status).toBe(204);
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    });
    it("GET with an allowed Origin -> Docker-Content-Digest exposed; other origins get no CORS headers", async () => {
      const name = uniqueName("ui-cors");
      const image = await pushImage(withAuth(target(), ALICE), name, "v1");
      const res = await target().fetch(`/v2/${name}/manifests/v1`, { headers: { Origin: "https://ui.example.com", Authorization: ALICE, Accept: MT.ociManifest } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(image.manifest); // the CORS stage keeps the body (src/bytes-response.ts)
      expect(res.headers.get("access-control-allow-origin")).toBe("https://ui.example.com");
      expect(res.headers.get("access-control-expose-headers")).toContain("Docker-Content-Digest");
      const denied = await target().fetch("/v2/", { headers: { Origin: "https://ui.example.com" } });
      expect(denied.status).toBe(401); // CORS headers on errors too, so the page can read the challenge
      expect(denied.headers.get("access-control-allow-origin")).toBe("https://ui.example.com");
      const other = await target().fetch("/v2/", { headers: { Origin: "https://evil.example", Authorization: ALICE } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    });
  });
}, ["uiOptions"]);

function withAuth(t: Target, authorization: string): Target {
  return withHeaders(t, { Authorization: authorization });
}

function withHeaders(t: Target, extra: Record<string, string>): Target {
  return {
    ...t,
    fetch: (path, init = {}) => {
      const headers = new Headers(init.headers);
      for (const [k, v] of Object.entries(extra)) headers.set(k, v);
      return t.fetch(path, { ...init, headers });
    },
  };
}
