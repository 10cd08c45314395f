/**
 * Pull workflow: end-1 (GET /v2/), end-2 (GET/HEAD blobs, ranges), end-3 (GET/HEAD
 * manifests as docker/skopeo pull them), end-10 (DELETE blob).
 */
import { describe, expect, it } from "vitest";
import { describeTargets, useTarget } from "../targets/index.ts";
import { abandonedDownload, rawRequest } from "../targets/raw-http.ts";
import {
  API_VERSION,
  bodyBytes,
  blobStatus,
  expectError,
  fingerprint,
  expectStatus,
  getBlob,
  MT,
  pushBlob,
  pushImage,
  randomBytes,
  sha256,
  uniqueName,
  unknownDigest,
} from "./helpers.ts";

describeTargets("pull", (kind, caps) => {
  const target = useTarget(kind);

  it("GET /v2/ -> 200 with Docker-Distribution-API-Version: registry/2.0", async () => {
    const res = await target().fetch("/v2/");
    await expectStatus(res, 200);
    expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    await res.body?.cancel();
  });

  it("GET /v2 (no trailing slash) -> 200 {} like /v2/", async () => {
    const res = await target().fetch("/v2");
    await expectStatus(res, 200);
    expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    expect(await res.json()).toEqual({});
  });

  it("HEAD /v2/<name>/blobs/<digest> -> 200 with Content-Length, Docker-Content-Digest, Content-Type, no body", async () => {
    const name = uniqueName();
    const data = randomBytes(622);
    const digest = await pushBlob(target(), name, data);
    const res = await target().fetch(`/v2/${name}/blobs/${digest}`, { method: "HEAD" });
    await expectStatus(res, 200);
    expect(res.headers.get("content-length")).toBe("622");
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.headers.get("content-type")).toBeTruthy();
    expect((await bodyBytes(res)).byteLength).toBe(0);
  });

  it("GET /v2/<name>/blobs/<digest> -> 200 with the exact bytes and headers", async () => {
    const name = uniqueName();
    const data = randomBytes(4096 + 3);
    const digest = await pushBlob(target(), name, data);
    const res = await target().fetch(`/v2/${name}/blobs/${digest}`);
    await expectStatus(res, 200);
    expect(res.headers.get("content-length")).toBe(String(data.byteLength));
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    expect(sha256(await bodyBytes(res))).toBe(digest);
  });

  it("GET /v2/<name>/blobs/<digest> of an empty blob -> 200, Content-Length: 0", async () => {
    const name = uniqueName();
    const digest = await pushBlob(target(), name, new Uint8Array(0));
    const res = await target().fetch(`/v2/${name}/blobs/${digest}`);
    await expectStatus(res, 200);
    expect(res.headers.get("content-length")).toBe("0");
    expect((await bodyBytes(res)).byteLength).toBe(0);
  });

  it("GET /v2/<name>/blobs/<digest> unknown -> 404 BLOB_UNKNOWN; HEAD -> 404 without body", async () => {
    const name = uniqueName();
    await pushBlob(target(), name, "something so the repository exists");
    const digest = unknownDigest();
    await expectError(await target().fetch(`/v2/${name}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    const head = await target().fetch(`/v2/${name}/blobs/${digest}`, { method: "HEAD" });
    expect(head.status).toBe(404);
    expect((await bodyBytes(head)).byteLength).toBe(0);
    await expectError(await target().fetch(`/v2/${uniqueName()}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
  });

  it("GET /v2/<other>/blobs/<digest> of a blob pushed only to <name> -> 404 BLOB_UNKNOWN (blobs are linked per repository)", async () => {
    const name = uniqueName();
    const other = uniqueName();
    const digest = await pushBlob(target(), name, randomBytes(64));
    await pushBlob(target(), other, randomBytes(64));
    await expectError(await target().fetch(`/v2/${other}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
  });

  describe("Range reads", () => {
    const size = 1000;
    const data = randomBytes(size);
    const cases: [string, number, number][] = [
      ["bytes=0-0", 0, 0],
      ["bytes=10-19", 10, 19],
      ["bytes=990-", 990, 999],
      ["bytes=-25", 975, 999],
      ["bytes=0-", 0, 999],
      ["bytes=500-5000", 500, 999], // last-byte-pos past the end is clamped (RFC 9110)
      ["bytes=-5000", 0, 999], // suffix longer than the blob is the whole blob
    ];
    for (const [range, first, last] of cases) {
      it(`GET /v2/<name>/blobs/<digest> Range: ${range} -> 206 with Content-Range bytes ${first}-${last}/${size}`, async () => {
        const name = uniqueName();
        const digest = await pushBlob(target(), name, data);
        const res = await target().fetch(`/v2/${name}/blobs/${digest}`, { headers: { Range: range } });
        await expectStatus(res, 206);
        expect(res.headers.get("content-range")).toBe(`bytes ${first}-${last}/${size}`);
        expect(res.headers.get("content-length")).toBe(String(last - first + 1));
        expect(res.headers.get("docker-content-digest")).toBe(digest);
        expect(fingerprint(await bodyBytes(res))).toBe(fingerprint(data.slice(first, last + 1)));
      });
    }
    for (const range of ["bytes=1000-", "bytes=5000-6000", "bytes=-0"]) {
      it(`GET /v2/<name>/blobs/<digest> Range: ${range} (unsatisfiable) -> 416 with Content-Range bytes */${size}`, async () => {
        const name = uniqueName();
        const digest = await pushBlob(target(), name, data);
        const res = await target().fetch(`/v2/${name}/blobs/${digest}`, { headers: { Range: range } });
        expect(res.status).toBe(416);
        expect(res.headers.get("content-range")).toBe(`bytes */${size}`);
        await res.body?.cancel();
      });
    }
    it("GET /v2/<name>/blobs/<digest> Range: items=0-1 (not bytes) -> 200 with the whole blob", async () => {
      const name = uniqueName();
      const digest = await pushBlob(target(), name, data);
      const res = await target().fetch(`/v2/${name}/blobs/${digest}`, { headers: { Range: "items=0-1" } });
      await expectStatus(res, 200);
      expect((await bodyBytes(res)).byteLength).toBe(size);
    });
    it("GET /v2/<name>/blobs/<digest> Range: bytes=5-2 (invalid, ignored as RFC 9110 allows) -> 200 with the whole blob", async () => {
      const name = uniqueName();
      const digest = await pushBlob(target(), name, data);
      const res = await target().fetch(`/v2/${name}/blobs/${digest}`, { headers: { Range: "bytes=5-2" } });
      await expectStatus(res, 200);
      expect(res.headers.get("content-range")).toBeNull();
      expect(fingerprint(await bodyBytes(res))).toBe(fingerprint(data));
    });
  });

  it("DELETE /v2/<name>/blobs/<digest> -> 202, then HEAD 404 and GET 404 BLOB_UNKNOWN", async () => {
    const name = uniqueName();
    const digest = await pushBlob(target(), name, randomBytes(50));
    const res = await target().fetch(`/v2/${name}/blobs/${digest}`, { method: "DELETE" });
    await expectStatus(res, 202);
    await res.body?.cancel();
    expect(await blobStatus(target(), name, digest)).toBe(404);
    await expectError(await target().fetch(`/v2/${name}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
  });

  it("DELETE /v2/<name>/blobs/<digest> in one repository leaves it readable in another", async () => {
    const a = uniqueName();
    const b = uniqueName();
    const data = randomBytes(70);
    const digest = await pushBlob(target(), a, data);
    await pushBlob(target(), b, data);
    const res = await target().fetch(`/v2/${a}/blobs/${digest}`, { method: "DELETE" });
    await expectStatus(res, 202);
    expect(await blobStatus(target(), a, digest)).toBe(404);
    expect(fingerprint(await getBlob(target(), b, digest))).toBe(fingerprint(data));
  });

  it("DELETE /v2/<name>/blobs/<digest> unknown -> 404 BLOB_UNKNOWN", async () => {
    const name = uniqueName();
    await pushBlob(target(), name, "x");
    await expectError(await target().fetch(`/v2/${name}/blobs/${unknownDigest()}`, { method: "DELETE" }), 404, "BLOB_UNKNOWN");
  });

  it("docker pull: HEAD /v2/<name>/manifests/<tag> then GET /v2/<name>/manifests/<digest> and its blobs", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1", { docker: true, layerCount: 2 });
    const accept = [MT.ociManifest, MT.dockerManifest, MT.dockerList, MT.ociIndex].join(", ");
    const head = await target().fetch(`/v2/${name}/manifests/v1`, { method: "HEAD", headers: { Accept: accept } });
    await expectStatus(head, 200);
    expect(head.headers.get("content-length")).toBe(String(image.size));
    expect(head.headers.get("content-type")).toBe(MT.dockerManifest);
    expect(head.headers.get("docker-content-digest")).toBe(image.digest);
    expect((await bodyBytes(head)).byteLength).toBe(0);

    const get = await target().fetch(`/v2/${name}/manifests/${image.digest}`, { headers: { Accept: accept } });
    await expectStatus(get, 200);
    expect(new TextDecoder().decode(await bodyBytes(get))).toBe(image.manifest);
    for (const [i, layer] of image.layers.entries()) {
      expect(fingerprint(await getBlob(target(), name, layer.digest))).toBe(fingerprint(image.layerBytes[i]));
    }
    expect(await blobStatus(target(), name, image.config.digest)).toBe(200);
  });

  it("GET /v2/<name>/manifests/<tag> with Connection: close -> 200", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "latest");
    const res = await target().fetch(`/v2/${name}/manifests/latest`, { headers: { Connection: "close" } });
    await expectStatus(res, 200);
    expect(res.headers.get("docker-content-digest")).toBe(image.digest);
    await res.body?.cancel();
  });

  it.skipIf(!caps.socket)("HEAD /v2/<name>/blobs/<digest> over a socket carries the real Content-Length and no body", async () => {
    const name = uniqueName();
    const data = randomBytes(12_345);
    const digest = await pushBlob(target(), name, data);
    const res = await rawRequest(target().baseUrl!, "HEAD", `/v2/${name}/blobs/${digest}`, {
      headers: { Connection: "close" },
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-length"]).toBe("12345");
    expect(res.headers["transfer-encoding"]).toBeUndefined();
    expect(res.headers["docker-content-digest"]).toBe(digest);
    expect(res.body.byteLength).toBe(0);
  });

  it.skipIf(!caps.socket)("HEAD /v2/<name>/manifests/<tag> over a socket carries the real Content-Length and no body", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1");
    const res = await rawRequest(target().baseUrl!, "HEAD", `/v2/${name}/manifests/v1`, {
      headers: { Accept: MT.ociManifest },
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-length"]).toBe(String(image.size));
    expect(res.headers["transfer-encoding"]).toBeUndefined();
    expect(res.headers["content-type"]).toBe(MT.ociManifest);
    expect(res.body.byteLength).toBe(0);
  });

  it.skipIf(!caps.socket)("GET /v2/<name>/blobs/<digest> over a socket streams an 8 MiB blob intact", async () => {
    const name = uniqueName();
    const data = randomBytes(8 * 1024 * 1024);
    const digest = await pushBlob(target(), name, data);
    const res = await rawRequest(target().baseUrl!, "GET", `/v2/${name}/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-length"]).toBe(String(data.byteLength));
    expect(sha256(res.body)).toBe(digest);
  });

  it.skipIf(!caps.socket)("GET /v2/<name>/blobs/<digest> client disconnects mid-body -> the server still serves it whole, many times", async () => {
    const name = uniqueName();
    const data = randomBytes(24 * 1024 * 1024);
    const digest = await pushBlob(target(), name, data);
    // Each abandoned pull leaves a file and its buffers with the server: none may leak or wedge it.
    for (let i = 0; i < 8; i++) {
      const cut = await abandonedDownload(target().baseUrl!, `/v2/${name}/blobs/${digest}`, 64 * 1024);
      expect(cut.status).toBe(200);
      expect(cut.received).toBeLessThan(data.byteLength);
    }
    const res = await rawRequest(target().baseUrl!, "GET", `/v2/${name}/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(sha256(res.body)).toBe(digest);
  });
});
