/**
 * Bad input everywhere: repository names, tags, digests, path traversal, unknown routes
 * and methods. Never a 500, never a file outside the storage root; every response carries
 * Docker-Distribution-API-Version and every error the OCI error body.
 */
import { readdir } from "node:fs/promises";
import { Agent } from "node:http";
import { dirname } from "node:path";
import { expect, it } from "vitest";
import { describeTargets, useTarget } from "../targets/index.ts";
import { rawRequest } from "../targets/raw-http.ts";
import {
  API_VERSION,
  checkErrorShape,
  expectError,
  expectStatus,
  imageManifest,
  MT,
  pushBlob,
  pushImage,
  randomBytes,
  sha256,
  startUpload,
  uniqueName,
  withQuery,
} from "./helpers.ts";

// Names with "." or ".." segments (literal or %2e) are normalized away by URL parsing before
// any handler sees them; they are covered by the traversal tests below.
const BAD_NAMES = [
  "UPPER",
  "a//b",
  "-lead",
  "trail-",
  "a/",
  "a..b",
  "a_-b",
  "a___b",
  "café",
  "a%20b",
  "a%2Fb",
  "a%2f..%2fb",
  "..%2F..%2Fescape",
  "a" + "/b".repeat(128), // 257 characters
];

const GOOD_NAMES = ["a", "a/b/c/d/e", "a-b", "a--b", "a__b", "a.b", "0", "x".repeat(200)];

const BAD_TAGS = ["-lead", ".lead", "t".repeat(129), "bad!", "a%20b", "a%2Fb"];

const BAD_DIGESTS = ["sha256:xyz", "sha256:" + "a".repeat(63), "sha256:" + "a".repeat(65), "sha256", "sha256:", "md5:d41d8cd98f00b204e9800998ecf8427e"];

describeTargets("errors", (kind, caps) => {
  const target = useTarget(kind);

  for (const bad of BAD_NAMES) {
    const label = bad.length > 24 ? `${bad.slice(0, 12)}…(${bad.length})` : bad;
    it(`GET /v2/${label}/tags/list (invalid name) -> 400 NAME_INVALID`, async () => {
      await expectError(await target().fetch(`/v2/${bad}/tags/list`), 400, "NAME_INVALID");
    });
    it(`POST /v2/${label}/blobs/uploads/ (invalid name) -> 400 NAME_INVALID`, async () => {
      await expectError(await target().fetch(`/v2/${bad}/blobs/uploads/`, { method: "POST" }), 400, "NAME_INVALID");
    });
    it(`PUT /v2/${label}/manifests/latest (invalid name) -> 400 NAME_INVALID`, async () => {
      const res = await target().fetch(`/v2/${bad}/manifests/latest`, {
        method: "PUT",
        headers: { "Content-Type": MT.ociManifest },
        body: "{}",
      });
      await expectError(res, 400, "NAME_INVALID");
    });
  }

  it("GET /v2/<name>/blobs/<digest> with an invalid name -> 400 NAME_INVALID (checked before the digest)", async () => {
    await expectError(await target().fetch(`/v2/UPPER/blobs/${sha256("x")}`), 400, "NAME_INVALID");
    await expectError(await target().fetch(`/v2/a..b/manifests/${sha256("x")}`), 400, "NAME_INVALID");
    await expectError(await target().fetch(`/v2/a%2Fb/referrers/${sha256("x")}`), 400, "NAME_INVALID");
  });

  it("valid names (multiple components, separators, 200 characters) -> push and pull work", async () => {
    for (const good of GOOD_NAMES) {
      const name = good === "a" || good === "0" ? `${good}/${uniqueName("n")}` : good;
      const image = await pushImage(target(), name, "v1");
      const res = await target().fetch(`/v2/${name}/manifests/v1`);
      await expectStatus(res, 200);
      expect(res.headers.get("docker-content-digest")).toBe(image.digest);
    }
  });

  it("POST /v2/<300-character name>/blobs/uploads/?digest= -> 400 NAME_INVALID (names are at most 255)", async () => {
    const name = "n".repeat(300);
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?digest=${sha256("x")}`, { method: "POST", body: "x" });
    await expectError(res, 400, "NAME_INVALID");
  });

  for (const bad of BAD_TAGS) {
    it(`PUT /v2/<name>/manifests/${bad.slice(0, 20)} (invalid tag) -> 400 TAG_INVALID`, async () => {
      const name = uniqueName();
      const image = await pushImage(target(), name);
      const res = await target().fetch(`/v2/${name}/manifests/${bad}`, {
        method: "PUT",
        headers: { "Content-Type": MT.ociManifest },
        body: image.manifest,
      });
      await expectError(res, 400, "TAG_INVALID");
    });
  }

  it("GET and HEAD /v2/<name>/manifests/<invalid tag> -> 404 MANIFEST_UNKNOWN (nothing can exist there); DELETE -> 400 TAG_INVALID", async () => {
    const name = uniqueName();
    await pushImage(target(), name, "v1");
    for (const bad of BAD_TAGS) {
      await expectError(await target().fetch(`/v2/${name}/manifests/${bad}`), 404, "MANIFEST_UNKNOWN");
      const head = await target().fetch(`/v2/${name}/manifests/${bad}`, { method: "HEAD" });
      expect(head.status, bad).toBe(404);
      await head.body?.cancel();
    }
    await expectError(await target().fetch(`/v2/${name}/manifests/-bad`, { method: "DELETE" }), 400, "TAG_INVALID");
  });

  for (const bad of BAD_DIGESTS) {
    it(`GET, HEAD, DELETE /v2/<name>/blobs/${bad.slice(0, 20)} (invalid digest) -> 400 DIGEST_INVALID`, async () => {
      const name = uniqueName();
      await pushBlob(target(), name, "x");
      await expectError(await target().fetch(`/v2/${name}/blobs/${bad}`), 400, "DIGEST_INVALID");
      await expectError(await target().fetch(`/v2/${name}/blobs/${bad}`, { method: "DELETE" }), 400, "DIGEST_INVALID");
      const head = await target().fetch(`/v2/${name}/blobs/${bad}`, { method: "HEAD" });
      expect(head.status).toBe(400);
      await head.body?.cancel();
    });
    // Without a ":" the reference is a (valid) tag, not a digest.
    it.skipIf(!bad.includes(":"))(`GET /v2/<name>/manifests/${bad.slice(0, 20)} (invalid digest) -> 404 MANIFEST_UNKNOWN; PUT -> 400 DIGEST_INVALID`, async () => {
      const name = uniqueName();
      const image = await pushImage(target(), name, "v1");
      await expectError(await target().fetch(`/v2/${name}/manifests/${bad}`), 404, "MANIFEST_UNKNOWN");
      const put = await target().fetch(`/v2/${name}/manifests/${bad}`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: image.manifest });
      await expectError(put, 400, "DIGEST_INVALID");
    });
    it(`POST /v2/<name>/blobs/uploads/?digest=${bad.slice(0, 20)} (invalid digest) -> 400 DIGEST_INVALID, nothing stored`, async () => {
      const name = uniqueName();
      const data = randomBytes(10);
      const res = await target().fetch(`/v2/${name}/blobs/uploads/?digest=${encodeURIComponent(bad)}`, { method: "POST", body: data });
      await expectError(res, 400, "DIGEST_INVALID");
      const head = await target().fetch(`/v2/${name}/blobs/${sha256(data)}`, { method: "HEAD" });
      expect(head.status).toBe(404);
    });
  }

  it("PUT /v2/<name>/manifests/<digest with uppercase hex> -> 400 DIGEST_INVALID", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const upper = "sha256:" + image.digest.slice(7).toUpperCase();
    const res = await target().fetch(`/v2/${name}/manifests/${upper}`, {
      method: "PUT",
      headers: { "Content-Type": MT.ociManifest },
      body: image.manifest,
    });
    await expectError(res, 400, "DIGEST_INVALID");
  });

  // What fetch sends as is (it folds "%2e%2e" segments itself, so those go over the raw socket below).
  for (const path of [
    "/v2/..%2F..%2Fescape/blobs/uploads/",
    "/v2/a%2F..%2F..%2F..%2Fescape/blobs/uploads/",
    "/v2/%2E%2E%2F%2E%2E%2Fescape/blobs/uploads/",
  ]) {
    it(`POST ${path}?digest= (encoded slashes) -> 400 NAME_INVALID, nothing written outside the root`, async () => {
      const t = target();
      const before = t.rootDir ? (await readdir(dirname(t.rootDir))).sort() : [];
      const data = randomBytes(16);
      const res = await t.fetch(`${path}?digest=${sha256(data)}`, { method: "POST", body: data });
      await expectError(res, 400, "NAME_INVALID");
      if (t.rootDir) expect((await readdir(dirname(t.rootDir))).sort()).toEqual(before);
    });
  }

  // Targets URL parsing would rewrite: refused before routing where the runtime lets Berth see
  // them (Node: req.url; Deno: request.url keeps the raw target). workerd folds dot segments
  // and "\" before the Worker runs (runtimes/cloudflare/README.md); "//" reaches it.
  const NON_CANONICAL: [string, string, boolean][] = [
    ["POST", "/v2/a/../b/blobs/uploads/", false],
    ["POST", "/v2/a/./b/blobs/uploads/", false],
    ["POST", "/v2/a/%2e%2e/b/blobs/uploads/", false],
    ["POST", "/v2/a/%2E/b/blobs/uploads/", false],
    ["POST", "/v2/a/.%2E/b/blobs/uploads/", false],
    ["POST", "/v2/a\\b/blobs/uploads/", false],
    ["POST", "/v2/a//b/blobs/uploads/", true],
    ["POST", "//v2/a/blobs/uploads/", true],
    ["GET", "/v2/../../../../etc/passwd/tags/list", false],
    ["GET", "/v2/x/blobs/uploads/../../../../etc/passwd", false],
    ["GET", "/v2/%2e%2e/%2e%2e/etc/tags/list", false],
    ["PUT", "/v2/../../../../tmp/escape/manifests/latest", false],
    ["GET", "/v2/a/tags/list/..", false],
    ["GET", "/v2/a/tags/./list?n=1", false],
  ];
  for (const [method, path, reachesWorker] of NON_CANONICAL) {
    it.skipIf(!caps.socket || (kind === "worker" && !reachesWorker))(
      `${method} ${path} over a raw socket (non-canonical target) -> 400 NAME_INVALID before routing, nothing started`,
      async () => {
        const t = target();
        const before = t.rootDir ? (await readdir(dirname(t.rootDir))).sort() : [];
        const res = await rawRequest(t.baseUrl!, method, path, { body: method === "GET" ? undefined : "{}" });
        expect(res.status, res.body.toString()).toBe(400);
        expect(checkErrorShape(res.body.toString()).map((e) => e.code)).toEqual(["NAME_INVALID"]);
        expect(res.headers["docker-distribution-api-version"]).toBe(API_VERSION);
        expect(res.headers["docker-upload-uuid"]).toBeUndefined();
        if (t.rootDir) expect((await readdir(dirname(t.rootDir))).sort()).toEqual(before);
      },
    );
  }

  it.skipIf(!caps.socket)("GET /v2/x/blobs/sha256:..%2F..%2Fetc%2Fpasswd and /manifests/..%2F.. over a raw socket -> 400 DIGEST_INVALID, 404 MANIFEST_UNKNOWN", async () => {
    const blob = await rawRequest(target().baseUrl!, "GET", "/v2/x/blobs/sha256:..%2F..%2F..%2Fetc%2Fpasswd");
    expect(blob.status).toBe(400);
    expect(checkErrorShape(blob.body.toString()).map((e) => e.code)).toEqual(["DIGEST_INVALID"]);
    const manifest = await rawRequest(target().baseUrl!, "GET", "/v2/x/manifests/..%2F..%2F..%2Fetc%2Fpasswd");
    expect(manifest.status).toBe(404);
    expect(checkErrorShape(manifest.body.toString()).map((e) => e.code)).toEqual(["MANIFEST_UNKNOWN"]);
  });

  // TRACE is no registry operation, and Node's Request cannot even carry it: 405 UNSUPPORTED
  // through the one serializer on every runtime. node:http's parser (Node, and Deno, which
  // serves through it) answers 400 and workerd 501 to TRACK before Berth runs; CONNECT reaches
  // none of them as a request (docs/api-coverage.md, "Strict answers").
  for (const [method, path] of [["TRACE", "/v2/"], ["TRACE", "/v2/a/manifests/latest"], ["TRACE", "/nope"]] as const) {
    it.skipIf(!caps.socket)(`${method} ${path} over a raw socket -> 405 UNSUPPORTED with an OCI error body`, async () => {
      const res = await rawRequest(target().baseUrl!, method, path);
      expect(res.status, res.body.toString()).toBe(405);
      expect(checkErrorShape(res.body.toString()).map((e) => e.code)).toEqual(["UNSUPPORTED"]);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.headers["docker-distribution-api-version"]).toBe(API_VERSION);
    });
  }

  it.skipIf(!caps.socket)("an error answered before the request body is read does not stall the keep-alive connection", async () => {
    // One keep-alive socket: a request whose big body the server never read (413, 400)
    // must not leave that socket stuck for the next request.
    const t = target();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const name = uniqueName();
      const huge = new Uint8Array(5 * 1024 * 1024).fill(0x20);
      const tooBig = await rawRequest(t.baseUrl!, "PUT", `/v2/${name}/manifests/v1`, {
        agent, timeoutMs: 10_000, headers: { "Content-Type": MT.ociManifest }, body: huge,
      });
      expect(tooBig.status).toBe(413);
      expect(checkErrorShape(tooBig.body.toString()).map((e) => e.code)).toEqual(["MANIFEST_INVALID"]);
      const after413 = await rawRequest(t.baseUrl!, "GET", "/v2/", { agent, timeoutMs: 5_000 });
      expect(after413.status).toBe(200);
      // The same without a Content-Length (chunked), as skopeo sends: the answer is read past
      // the limit, so the client sees the 413 instead of a reset or a broken pipe.
      const chunked = await rawRequest(t.baseUrl!, "PUT", `/v2/${name}/manifests/v1`, {
        agent, timeoutMs: 10_000, headers: { "Content-Type": MT.ociManifest, "Transfer-Encoding": "chunked" }, body: huge,
      });
      expect(chunked.status).toBe(413);
      expect(checkErrorShape(chunked.body.toString()).map((e) => e.code)).toEqual(["MANIFEST_INVALID"]);
      const afterChunked = await rawRequest(t.baseUrl!, "GET", "/v2/", { agent, timeoutMs: 5_000 });
      expect(afterChunked.status).toBe(200);
      const badDigest = await rawRequest(t.baseUrl!, "POST", `/v2/${name}/blobs/uploads/?digest=sha256:xyz`, {
        agent, timeoutMs: 10_000, body: randomBytes(3 * 1024 * 1024),
      });
      expect(badDigest.status).toBe(400);
      const after400 = await rawRequest(t.baseUrl!, "POST", `/v2/${name}/blobs/uploads/`, { agent, timeoutMs: 5_000 });
      expect(after400.status).toBe(202);
    } finally {
      agent.destroy();
    }
  });

  for (const [method, path] of [
    ["GET", "/v3/"],
    ["GET", "/v2/name/unknown-endpoint"],
    ["GET", "/nothing-here"], // "/" is the web UI
    ["GET", "/v2/name/tags/list/extra"],
  ] as const) {
    it(`${method} ${path} (no such route) -> 404 with an OCI error body`, async () => {
      const res = await target().fetch(path, { method });
      expect(res.status).toBe(404);
      checkErrorShape(await res.text());
    });
  }

  for (const [method, path, allow] of [
    ["POST", "/v2/name/manifests/latest", "HEAD, GET, PUT, DELETE"],
    ["PATCH", "/v2/name/manifests/latest", "HEAD, GET, PUT, DELETE"],
    ["PUT", `/v2/name/blobs/${sha256("x")}`, "HEAD, GET, DELETE"],
    ["POST", "/v2/name/tags/list", "GET"],
    ["DELETE", "/v2/", "GET"],
    ["DELETE", "/v2/_catalog", "GET"],
  ] as const) {
    it(`${method} ${path} (method not allowed) -> 405 UNSUPPORTED, Allow: ${allow}`, async () => {
      const res = await target().fetch(path, { method, body: method === "DELETE" ? undefined : "x" });
      expect(res.headers.get("allow")).toBe(allow);
      await expectError(res, 405, "UNSUPPORTED");
    });
  }

  it("every response carries Docker-Distribution-API-Version: registry/2.0 (2xx, 3xx, 4xx, HEAD)", async () => {
    const t = target();
    const name = uniqueName();
    const data = randomBytes(100);
    const image = await pushImage(t, name, "v1");
    const { location, res: post } = await startUpload(t, name);
    const responses: [string, Response][] = [["POST upload", post]];
    const record = async (label: string, path: string, init?: RequestInit) => {
      const res = await t.fetch(path, init);
      await res.body?.cancel();
      responses.push([`${label} -> ${res.status}`, res]);
    };
    await record("GET /v2/", "/v2/");
    await record("GET session", location);
    await record("PATCH", location, { method: "PATCH", body: data });
    await record("PATCH 416", location, { method: "PATCH", headers: { "Content-Range": "500-599" }, body: data });
    await record("PUT upload", withQuery(location, { digest: sha256(data) }), { method: "PUT" });
    await record("HEAD blob", `/v2/${name}/blobs/${sha256(data)}`, { method: "HEAD" });
    await record("GET blob range", `/v2/${name}/blobs/${sha256(data)}`, { headers: { Range: "bytes=0-9" } });
    await record("GET blob 416", `/v2/${name}/blobs/${sha256(data)}`, { headers: { Range: "bytes=900-" } });
    await record("HEAD blob 404", `/v2/${name}/blobs/${sha256("nope")}`, { method: "HEAD" });
    await record("GET manifest", `/v2/${name}/manifests/v1`);
    await record("HEAD manifest", `/v2/${name}/manifests/${image.digest}`, { method: "HEAD" });
    await record("PUT manifest", `/v2/${name}/manifests/v2`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: image.manifest });
    await record("PUT manifest 400", `/v2/${name}/manifests/v3`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: "nope" });
    await record("tags", `/v2/${name}/tags/list?n=1`);
    await record("catalog", "/v2/_catalog");
    await record("referrers", `/v2/${name}/referrers/${image.digest}`);
    await record("bad name", "/v2/BAD/tags/list");
    await record("no route", "/nope");
    await record("DELETE manifest", `/v2/${name}/manifests/v2`, { method: "DELETE" });
    await record("DELETE blob", `/v2/${name}/blobs/${sha256(data)}`, { method: "DELETE" });
    const missing = responses.filter(([, res]) => res.headers.get("docker-distribution-api-version") !== API_VERSION);
    expect(missing.map(([label]) => label)).toEqual([]);
  });

  it("every 4xx from the registry has the OCI error body {errors:[{code,message,detail}]}", async () => {
    const t = target();
    const name = uniqueName();
    await pushImage(t, name, "v1");
    const paths: [string, RequestInit?][] = [
      [`/v2/${name}/manifests/missing`],
      [`/v2/${name}/blobs/${sha256("missing")}`],
      [`/v2/${uniqueName()}/tags/list`],
      [`/v2/${name}/blobs/uploads/0b6a3f0e-8f5e-4a7c-9d2e-3c1b2a4d5e6f`],
      [`/v2/${name}/manifests/v1`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: "{" }],
      [`/v2/${name}/manifests/v1`, {
        method: "PUT",
        headers: { "Content-Type": MT.ociManifest },
        body: imageManifest({ config: { mediaType: MT.ociConfig, digest: sha256("nope"), size: 4 }, layers: [] }),
      }],
    ];
    for (const [path, init] of paths) {
      const res = await t.fetch(path, init);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      checkErrorShape(await res.text());
    }
  });
});
