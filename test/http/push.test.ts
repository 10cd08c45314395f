/**
 * Push workflow as real clients drive it (see /work/shared/client-traces): end-4a, end-4b,
 * end-5, end-6, end-11; digest and size verification; sha512 blobs.
 */
import { expect, it } from "vitest";
import { describeTargets, useTarget } from "../targets/index.ts";
import {
  blobStatus,
  concatBytes,
  expectError,
  fingerprint,
  expectStatus,
  getBlob,
  imageManifest,
  describeBytes,
  locationOf,
  MT,
  pushBlob,
  pushManifest,
  randomBytes,
  sha256,
  sha512,
  startUpload,
  streamOf,
  uniqueName,
  unknownDigest,
  withQuery,
} from "./helpers.ts";

describeTargets("push", (kind, caps) => {
  const target = useTarget(kind);

  it("docker push: POST, chunked PATCH without Content-Type, PUT ?digest= empty -> 201, HEAD verifies", async () => {
    const name = uniqueName();
    const data = randomBytes(622);
    const digest = sha256(data);
    const { location, res: post } = await startUpload(target(), name);
    expect(post.headers.get("range")).toBe("0-0");
    expect(post.headers.get("docker-upload-uuid")).toBeTruthy();

    const patch = await target().fetch(location, {
      method: "PATCH",
      body: streamOf([data.slice(0, 100), data.slice(100, 400), data.slice(400)]),
    });
    await expectStatus(patch, 202);
    expect(patch.headers.get("range")).toBe("0-621");
    const next = locationOf(patch);

    const put = await target().fetch(withQuery(next, { digest }), { method: "PUT", headers: { "Content-Length": "0" } });
    await expectStatus(put, 201);
    expect(put.headers.get("docker-content-digest")).toBe(digest);
    expect(locationOf(put)).toBe(`/v2/${name}/blobs/${digest}`);

    const head = await target().fetch(`/v2/${name}/blobs/${digest}`, { method: "HEAD" });
    await expectStatus(head, 200);
    expect(head.headers.get("content-length")).toBe("622");
  });

  it("podman/skopeo push: HEAD 404, POST, PATCH with Content-Length, PUT ?digest= empty -> 201", async () => {
    const name = uniqueName();
    const data = randomBytes(444);
    const digest = sha256(data);
    expect(await blobStatus(target(), name, digest)).toBe(404);
    const { location } = await startUpload(target(), name);
    const patch = await target().fetch(location, {
      method: "PATCH",
      headers: { "Content-Type": "application/octet-stream", "Content-Length": "444" },
      body: data,
    });
    await expectStatus(patch, 202);
    expect(patch.headers.get("range")).toBe("0-443");
    expect(patch.headers.get("docker-upload-uuid")).toBeTruthy();
    const put = await target().fetch(withQuery(locationOf(patch), { digest }), {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream", "Content-Length": "0" },
    });
    await expectStatus(put, 201);
    expect(put.headers.get("docker-content-digest")).toBe(digest);
    expect(fingerprint(await getBlob(target(), name, digest))).toBe(fingerprint(data));
  });

  it("containerd push: POST then PUT /v2/<name>/blobs/uploads/<id>?digest= with the whole body -> 201", async () => {
    const name = uniqueName();
    const data = randomBytes(3000);
    const digest = sha256(data);
    const { location } = await startUpload(target(), name);
    const put = await target().fetch(withQuery(location, { digest }), {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream" },
      body: data,
    });
    await expectStatus(put, 201);
    expect(put.headers.get("docker-content-digest")).toBe(digest);
    expect(locationOf(put)).toBe(`/v2/${name}/blobs/${digest}`);
    expect(fingerprint(await getBlob(target(), name, digest))).toBe(fingerprint(data));
  });

  it("POST /v2/<name>/blobs/uploads/?digest= with the body (monolithic) -> 201 with Location and Docker-Content-Digest", async () => {
    const name = uniqueName();
    const data = randomBytes(1234);
    const digest = sha256(data);
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream", "Content-Length": "1234" },
      body: data,
    });
    await expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(locationOf(res)).toBe(`/v2/${name}/blobs/${digest}`);
    expect(fingerprint(await getBlob(target(), name, digest))).toBe(fingerprint(data));
  });

  it("POST /v2/<name>/blobs/uploads/?digest= with a streamed (chunked) body -> 201", async () => {
    const name = uniqueName();
    const data = randomBytes(70_000);
    const digest = sha256(data);
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      body: streamOf([data.slice(0, 30_000), data.slice(30_000)]),
    });
    await expectStatus(res, 201);
    expect(fingerprint(await getBlob(target(), name, digest))).toBe(fingerprint(data));
  });

  it("POST /v2/<name>/blobs/uploads/?digest= with bytes that do not match -> 400 DIGEST_INVALID, nothing stored", async () => {
    const name = uniqueName();
    const data = randomBytes(100);
    const claimed = unknownDigest();
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?digest=${claimed}`, { method: "POST", body: data });
    await expectError(res, 400, "DIGEST_INVALID");
    expect(await blobStatus(target(), name, claimed)).toBe(404);
    expect(await blobStatus(target(), name, sha256(data))).toBe(404);
  });

  it("PUT /v2/<name>/blobs/uploads/<id>?digest= not matching the uploaded bytes -> 400 DIGEST_INVALID, nothing stored", async () => {
    const name = uniqueName();
    const data = randomBytes(300);
    const claimed = sha256(randomBytes(300));
    const { location } = await startUpload(target(), name);
    const patch = await target().fetch(location, { method: "PATCH", body: data });
    await expectStatus(patch, 202);
    const put = await target().fetch(withQuery(locationOf(patch), { digest: claimed }), { method: "PUT" });
    await expectError(put, 400, "DIGEST_INVALID");
    expect(await blobStatus(target(), name, claimed)).toBe(404);
    expect(await blobStatus(target(), name, sha256(data))).toBe(404);
  });

  it("PUT /v2/<name>/blobs/uploads/<id>?digest= with a final chunk that breaks the digest -> 400 DIGEST_INVALID, nothing stored", async () => {
    const name = uniqueName();
    const first = randomBytes(200);
    const intended = concatBytes(first, randomBytes(50));
    const { location } = await startUpload(target(), name);
    const patch = await target().fetch(location, { method: "PATCH", body: first });
    await expectStatus(patch, 202);
    const put = await target().fetch(withQuery(locationOf(patch), { digest: sha256(intended) }), {
      method: "PUT",
      body: randomBytes(50),
    });
    await expectError(put, 400, "DIGEST_INVALID");
    expect(await blobStatus(target(), name, sha256(intended))).toBe(404);
  });

  it("PUT /v2/<name>/blobs/uploads/<id> without ?digest= -> 400 DIGEST_INVALID", async () => {
    const name = uniqueName();
    const { location } = await startUpload(target(), name);
    const put = await target().fetch(location, { method: "PUT", body: randomBytes(10) });
    await expectError(put, 400, "DIGEST_INVALID");
  });

  it("PUT /v2/<name>/blobs/uploads/<id>?digest=<malformed> -> 400 DIGEST_INVALID", async () => {
    const name = uniqueName();
    const { location } = await startUpload(target(), name);
    for (const bad of ["sha256:xyz", "sha256:" + "a".repeat(63), "nodigest", "sha256:" + "A".repeat(64)]) {
      const put = await target().fetch(withQuery(location, { digest: bad }), { method: "PUT", body: randomBytes(10) });
      await expectError(put, 400, "DIGEST_INVALID");
    }
  });

  it.skipIf(!caps.forgedContentLength)(
    "POST /v2/<name>/blobs/uploads/?digest= with Content-Length larger than the body -> 400 SIZE_INVALID, nothing stored",
    async () => {
      const name = uniqueName();
      const data = randomBytes(100);
      const res = await target().fetch(`/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, {
        method: "POST",
        headers: { "Content-Length": "150" },
        body: data,
      });
      await expectError(res, 400, "SIZE_INVALID");
      expect(await blobStatus(target(), name, sha256(data))).toBe(404);
    },
  );

  it.skipIf(!caps.forgedContentLength)(
    "PATCH /v2/<name>/blobs/uploads/<id> with Content-Length smaller than the body -> 400 SIZE_INVALID",
    async () => {
      const name = uniqueName();
      const data = randomBytes(100);
      const { location } = await startUpload(target(), name);
      const res = await target().fetch(location, { method: "PATCH", headers: { "Content-Length": "60" }, body: data });
      await expectError(res, 400, "SIZE_INVALID");
    },
  );

  it("POST /v2/<name>/blobs/uploads/?digest=sha512:... -> 201, blob readable by its sha512 digest", async () => {
    const name = uniqueName();
    const data = randomBytes(500);
    const digest = sha512(data);
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?digest=${digest}`, { method: "POST", body: data });
    await expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    const get = await target().fetch(`/v2/${name}/blobs/${digest}`);
    await expectStatus(get, 200);
    expect(fingerprint(new Uint8Array(await get.arrayBuffer()))).toBe(fingerprint(data));
  });

  it("PATCH then PUT /v2/<name>/blobs/uploads/<id>?digest=sha512:... -> 201; a wrong sha512 -> 400 DIGEST_INVALID", async () => {
    const name = uniqueName();
    const data = randomBytes(900);
    const { location } = await startUpload(target(), name);
    const patch = await target().fetch(location, { method: "PATCH", body: data });
    await expectStatus(patch, 202);
    const put = await target().fetch(withQuery(locationOf(patch), { digest: sha512(data) }), { method: "PUT" });
    await expectStatus(put, 201);
    expect(await blobStatus(target(), name, sha512(data))).toBe(200);

    const other = randomBytes(900);
    const second = await startUpload(target(), name);
    const bad = await target().fetch(withQuery(second.location, { digest: sha512(randomBytes(1)) }), {
      method: "PUT",
      body: other,
    });
    await expectError(bad, 400, "DIGEST_INVALID");
    expect(await blobStatus(target(), name, sha512(other))).toBe(404);
  });

  it("POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo> -> 201 with Location and Docker-Content-Digest", async () => {
    const from = uniqueName();
    const name = uniqueName();
    const data = randomBytes(253);
    const digest = await pushBlob(target(), from, data);
    expect(await blobStatus(target(), name, digest)).toBe(404);
    const res = await target().fetch(
      `/v2/${name}/blobs/uploads/?from=${encodeURIComponent(from)}&mount=${digest}`,
      { method: "POST", headers: { "Content-Length": "0" } },
    );
    await expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(locationOf(res)).toBe(`/v2/${name}/blobs/${digest}`);
    expect(fingerprint(await getBlob(target(), name, digest))).toBe(fingerprint(data));
  });

  it("POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo without it> -> 202 with a new upload session", async () => {
    const from = uniqueName();
    const name = uniqueName();
    await pushBlob(target(), from, randomBytes(10));
    const elsewhere = uniqueName();
    const digest = await pushBlob(target(), elsewhere, randomBytes(20)); // exists, but not in `from`
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?mount=${digest}&from=${from}`, { method: "POST" });
    await expectStatus(res, 202);
    expect(res.headers.get("range")).toBe("0-0");
    expect(res.headers.get("docker-upload-uuid")).toBeTruthy();
    expect(await blobStatus(target(), name, digest)).toBe(404);
    // The session works like any other.
    const data = randomBytes(30);
    const put = await target().fetch(withQuery(locationOf(res), { digest: sha256(data) }), { method: "PUT", body: data });
    await expectStatus(put, 201);
  });

  it("POST /v2/<name>/blobs/uploads/?mount=<digest> without from, blob in another repository -> 201, blob linked", async () => {
    const other = uniqueName();
    const name = uniqueName();
    const data = randomBytes(10);
    const digest = await pushBlob(target(), other, data);
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?mount=${digest}`, { method: "POST" });
    await expectStatus(res, 201);
    expect(locationOf(res)).toBe(`/v2/${name}/blobs/${digest}`);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(fingerprint(await getBlob(target(), name, digest))).toBe(fingerprint(data));
  });

  it("POST /v2/<name>/blobs/uploads/?mount=<digest> without from, digest unknown or only unlinked -> 202 with a new upload session", async () => {
    const name = uniqueName();
    const unknown = await target().fetch(`/v2/${name}/blobs/uploads/?mount=${unknownDigest()}`, { method: "POST" });
    await expectStatus(unknown, 202);
    expect(unknown.headers.get("docker-upload-uuid")).toBeTruthy();
    // Bytes still in the blob store whose last link was deleted are not brought back by a mount.
    const other = uniqueName();
    const digest = await pushBlob(target(), other, randomBytes(12));
    await expectStatus(await target().fetch(`/v2/${other}/blobs/${digest}`, { method: "DELETE" }), 202);
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?mount=${digest}`, { method: "POST" });
    await expectStatus(res, 202);
    expect(await blobStatus(target(), name, digest)).toBe(404);
  });

  it("POST /v2/<name>/blobs/uploads/?mount=<unknown digest>&from=<repo> -> 202", async () => {
    const from = uniqueName();
    await pushBlob(target(), from, randomBytes(10));
    const res = await target().fetch(`/v2/${uniqueName()}/blobs/uploads/?mount=${unknownDigest()}&from=${from}`, {
      method: "POST",
    });
    await expectStatus(res, 202);
    await res.body?.cancel();
  });

  it("POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<invalid name> -> 202 (falls back to an upload), never 500", async () => {
    const name = uniqueName();
    const digest = await pushBlob(target(), uniqueName(), randomBytes(10));
    for (const from of ["../../etc", "UPPER/case", "a//b", "%2e%2e"]) {
      const res = await target().fetch(`/v2/${name}/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(from)}`, {
        method: "POST",
      });
      await expectStatus(res, 202);
      await res.body?.cancel();
    }
  });

  it("push an 8 MiB blob in one streamed PATCH of many chunks, then PUT -> 201 and read it back", async () => {
    const name = uniqueName();
    const chunkSize = 64 * 1024;
    const chunks = Array.from({ length: 128 }, () => randomBytes(chunkSize));
    const data = concatBytes(...chunks);
    const digest = sha256(data);
    const { location } = await startUpload(target(), name);
    const patch = await target().fetch(location, { method: "PATCH", body: streamOf(chunks) });
    await expectStatus(patch, 202);
    expect(patch.headers.get("range")).toBe(`0-${data.byteLength - 1}`);
    const put = await target().fetch(withQuery(locationOf(patch), { digest }), { method: "PUT" });
    await expectStatus(put, 201);
    const head = await target().fetch(`/v2/${name}/blobs/${digest}`, { method: "HEAD" });
    expect(head.headers.get("content-length")).toBe(String(data.byteLength));
    expect(sha256(await getBlob(target(), name, digest))).toBe(digest);
  });

  it("the same blob pushed twice to one repository -> 201 both times, one readable blob", async () => {
    const name = uniqueName();
    const data = randomBytes(64);
    const digest = await pushBlob(target(), name, data);
    expect(await pushBlob(target(), name, data)).toBe(digest);
    expect(fingerprint(await getBlob(target(), name, digest))).toBe(fingerprint(data));
  });

  it("full image push: blobs, then PUT /v2/<name>/manifests/<tag> -> 201, pullable", async () => {
    const name = uniqueName();
    const config = new TextEncoder().encode('{"architecture":"amd64","os":"linux"}');
    const layer = randomBytes(2048);
    await pushBlob(target(), name, config);
    await pushBlob(target(), name, layer);
    const manifest = imageManifest({
      config: describeBytes(MT.ociConfig, config),
      layers: [describeBytes(MT.ociLayer, layer)],
    });
    const { digest, res } = await pushManifest(target(), name, "v1", manifest);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    const get = await target().fetch(`/v2/${name}/manifests/v1`);
    await expectStatus(get, 200);
    expect(await get.text()).toBe(manifest);
  });
});
