/**
 * Upload sessions: end-4a (POST), end-5 (PATCH, streamed and chunked), end-6 (PUT),
 * end-13 (GET status), end-14 (DELETE cancel); unknown and expired sessions; a client
 * that disconnects mid-PATCH.
 */
import { expect, it, vi } from "vitest";
import { describeTargets, useTarget } from "../targets/index.ts";
import { abortedRequest, rawRequest } from "../targets/raw-http.ts";
import {
  blobStatus,
  type Bytes,
  concatBytes,
  expectError,
  fingerprint,
  expectStatus,
  getBlob,
  locationOf,
  randomBytes,
  sha256,
  startUpload,
  streamOf,
  uniqueName,
  withQuery,
} from "./helpers.ts";

const FAKE_UUID = "0b6a3f0e-8f5e-4a7c-9d2e-3c1b2a4d5e6f";

describeTargets("uploads", (kind, caps) => {
  const target = useTarget(kind);

  /** PATCH one chunk with Content-Range; returns the response. */
  const patchChunk = (location: string, data: Bytes, start: number) =>
    target().fetch(location, {
      method: "PATCH",
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Range": `${start}-${start + data.byteLength - 1}`,
        "Content-Length": String(data.byteLength),
      },
      body: data,
    });

  it("POST /v2/<name>/blobs/uploads/ -> 202 with Location, Docker-Upload-UUID and Range: 0-0", async () => {
    const name = uniqueName();
    const { location, res } = await startUpload(target(), name);
    expect(location.startsWith(`/v2/${name}/blobs/uploads/`)).toBe(true);
    const uuid = res.headers.get("docker-upload-uuid");
    expect(uuid).toBeTruthy();
    expect(location).toContain(uuid!);
    expect(res.headers.get("range")).toBe("0-0");
  });

  it("POST /v2/<name>/blobs/uploads/ twice -> two distinct sessions", async () => {
    const name = uniqueName();
    const a = await startUpload(target(), name);
    const b = await startUpload(target(), name);
    expect(a.res.headers.get("docker-upload-uuid")).not.toBe(b.res.headers.get("docker-upload-uuid"));
  });

  it("GET /v2/<name>/blobs/uploads/<id> -> 204 with Range and Location, before and after a PATCH", async () => {
    const name = uniqueName();
    const { location } = await startUpload(target(), name);
    const fresh = await target().fetch(location);
    await expectStatus(fresh, 204);
    expect(fresh.headers.get("range")).toBe("0-0");
    expect(fresh.headers.get("location")).toBeTruthy();
    expect(fresh.headers.get("docker-upload-uuid")).toBeTruthy();

    const patch = await target().fetch(location, { method: "PATCH", body: randomBytes(77) });
    await expectStatus(patch, 202);
    const status = await target().fetch(locationOf(patch));
    await expectStatus(status, 204);
    expect(status.headers.get("range")).toBe("0-76");
    expect(locationOf(status).split("?")[0]).toBe(locationOf(patch).split("?")[0]);
  });

  it("PATCH /v2/<name>/blobs/uploads/<id> streamed twice without Content-Range -> appends, Range grows", async () => {
    const name = uniqueName();
    const a = randomBytes(100);
    const b = randomBytes(150);
    const { location } = await startUpload(target(), name);
    const first = await target().fetch(location, { method: "PATCH", body: streamOf([a]) });
    await expectStatus(first, 202);
    expect(first.headers.get("range")).toBe("0-99");
    const second = await target().fetch(locationOf(first), { method: "PATCH", body: b });
    await expectStatus(second, 202);
    expect(second.headers.get("range")).toBe("0-249");
    const digest = sha256(concatBytes(a, b));
    const put = await target().fetch(withQuery(locationOf(second), { digest }), { method: "PUT" });
    await expectStatus(put, 201);
    expect(fingerprint(await getBlob(target(), name, digest))).toBe(fingerprint(concatBytes(a, b)));
  });

  it("PATCH /v2/<name>/blobs/uploads/<id> with Content-Range in order -> 202 each, PUT -> 201", async () => {
    const name = uniqueName();
    const chunks = [randomBytes(1000), randomBytes(1000), randomBytes(10)];
    const { location } = await startUpload(target(), name);
    let next = location;
    let offset = 0;
    for (const chunk of chunks) {
      const res = await patchChunk(next, chunk, offset);
      await expectStatus(res, 202);
      offset += chunk.byteLength;
      expect(res.headers.get("range")).toBe(`0-${offset - 1}`);
      expect(res.headers.get("docker-upload-uuid")).toBeTruthy();
      next = locationOf(res);
    }
    const data = concatBytes(...chunks);
    const put = await target().fetch(withQuery(next, { digest: sha256(data) }), { method: "PUT" });
    await expectStatus(put, 201);
    expect(fingerprint(await getBlob(target(), name, sha256(data)))).toBe(fingerprint(data));
  });

  it("PATCH /v2/<name>/blobs/uploads/<id> out of order -> 416 with the current Range; upload continues", async () => {
    const name = uniqueName();
    const a = randomBytes(20);
    const b = randomBytes(20);
    const { location } = await startUpload(target(), name);
    const first = await patchChunk(location, a, 0);
    await expectStatus(first, 202);
    const skip = await patchChunk(locationOf(first), b, 30);
    expect(skip.status).toBe(416);
    expect(skip.headers.get("range")).toBe("0-19");
    expect(skip.headers.get("location")).toBeTruthy();
    await skip.body?.cancel();
    const status = await target().fetch(locationOf(first));
    expect(status.headers.get("range")).toBe("0-19");
    const second = await patchChunk(locationOf(first), b, 20);
    await expectStatus(second, 202);
    const digest = sha256(concatBytes(a, b));
    const put = await target().fetch(withQuery(locationOf(second), { digest }), { method: "PUT" });
    await expectStatus(put, 201);
  });

  it("PATCH /v2/<name>/blobs/uploads/<id> repeated chunk -> 416 with the current Range, bytes not appended", async () => {
    const name = uniqueName();
    const a = randomBytes(20);
    const { location } = await startUpload(target(), name);
    const first = await patchChunk(location, a, 0);
    await expectStatus(first, 202);
    const again = await patchChunk(locationOf(first), a, 0);
    expect(again.status).toBe(416);
    expect(again.headers.get("range")).toBe("0-19");
    await again.body?.cancel();
    const put = await target().fetch(withQuery(locationOf(first), { digest: sha256(a) }), { method: "PUT" });
    await expectStatus(put, 201);
  });

  it("PATCH /v2/<name>/blobs/uploads/<id> first chunk not starting at 0 -> 416 with Range: 0-0", async () => {
    const name = uniqueName();
    const { location } = await startUpload(target(), name);
    const res = await patchChunk(location, randomBytes(10), 5);
    expect(res.status).toBe(416);
    expect(res.headers.get("range")).toBe("0-0");
    await res.body?.cancel();
  });

  it("PATCH /v2/<name>/blobs/uploads/<id> with a malformed Content-Range -> 416, upload unchanged", async () => {
    const name = uniqueName();
    const { location } = await startUpload(target(), name);
    for (const range of ["abc", "10-5", "bytes 0-9/10", "-9"]) {
      const res = await target().fetch(location, {
        method: "PATCH",
        headers: { "Content-Range": range },
        body: randomBytes(10),
      });
      expect(res.status, `Content-Range: ${range}`).toBe(416);
      await res.body?.cancel();
    }
    const status = await target().fetch(location);
    await expectStatus(status, 204);
    expect(status.headers.get("range")).toBe("0-0");
  });

  // A range the upload cannot take is 416 on every store, sized or streamed (R2 used to be
  // asked for a 9 TB object and answered 500).
  for (const [label, range, size] of [
    ["longer than the body", "0-99", 50],
    ["shorter than the body", "0-9", 50],
    ["of 10 TB", "0-9999999999999", 10],
    ["past safe integers", "0-99999999999999999999", 10],
  ] as const) {
    for (const streamed of [false, true]) {
      it(`PATCH /v2/<name>/blobs/uploads/<id> with a Content-Range ${label}${streamed ? ", chunked body" : ""} -> 416 RANGE_INVALID, upload unchanged`, async () => {
        const name = uniqueName();
        const { location } = await startUpload(target(), name);
        const data = randomBytes(size);
        const res = await target().fetch(location, {
          method: "PATCH",
          headers: { "Content-Range": range },
          body: streamed ? streamOf([data.slice(0, 5), data.slice(5)]) : data,
        });
        await expectError(res, 416, "RANGE_INVALID");
        expect(res.headers.get("range")).toBe("0-0");
        const status = await target().fetch(location);
        await expectStatus(status, 204);
        expect(status.headers.get("range")).toBe("0-0");
        const patch = await target().fetch(location, { method: "PATCH", body: data });
        await expectStatus(patch, 202);
        expect(patch.headers.get("range")).toBe(`0-${size - 1}`);
      });
    }
  }

  // workerd drops a header with an empty value before the Worker runs, so there it reads as
  // absent (runtimes/cloudflare/README.md).
  it.skipIf(kind === "worker")("PATCH /v2/<name>/blobs/uploads/<id> with an empty Content-Range -> 416 RANGE_INVALID (malformed, not absent)", async () => {
    const name = uniqueName();
    const { location } = await startUpload(target(), name);
    const res = await target().fetch(location, { method: "PATCH", headers: { "Content-Range": "" }, body: randomBytes(10) });
    await expectError(res, 416, "RANGE_INVALID");
    const status = await target().fetch(location);
    expect(status.headers.get("range")).toBe("0-0");
  });

  it("PUT /v2/<name>/blobs/uploads/<id>?digest= with a final chunk after PATCHes -> 201", async () => {
    const name = uniqueName();
    const a = randomBytes(500);
    const b = randomBytes(123);
    const { location } = await startUpload(target(), name);
    const patch = await patchChunk(location, a, 0);
    await expectStatus(patch, 202);
    const digest = sha256(concatBytes(a, b));
    const put = await target().fetch(withQuery(locationOf(patch), { digest }), {
      method: "PUT",
      headers: { "Content-Range": "500-622", "Content-Length": "123", "Content-Type": "application/octet-stream" },
      body: b,
    });
    await expectStatus(put, 201);
    expect(put.headers.get("docker-content-digest")).toBe(digest);
    expect(fingerprint(await getBlob(target(), name, digest))).toBe(fingerprint(concatBytes(a, b)));
  });

  it("PUT /v2/<name>/blobs/uploads/<id>?digest= of an empty upload -> 201 (the empty blob)", async () => {
    const name = uniqueName();
    const { location } = await startUpload(target(), name);
    const digest = sha256(new Uint8Array(0));
    const put = await target().fetch(withQuery(location, { digest }), { method: "PUT" });
    await expectStatus(put, 201);
    expect(await blobStatus(target(), name, digest)).toBe(200);
  });

  it("PUT /v2/<name>/blobs/uploads/<id> after completion -> 404 BLOB_UPLOAD_UNKNOWN (the session is gone)", async () => {
    const name = uniqueName();
    const data = randomBytes(10);
    const { location } = await startUpload(target(), name);
    const put = await target().fetch(withQuery(location, { digest: sha256(data) }), { method: "PUT", body: data });
    await expectStatus(put, 201);
    await expectError(await target().fetch(location), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectError(
      await target().fetch(location, { method: "PATCH", body: randomBytes(5) }),
      404,
      "BLOB_UPLOAD_UNKNOWN",
    );
  });

  it("DELETE /v2/<name>/blobs/uploads/<id> -> 204, then the session is 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const name = uniqueName();
    const data = randomBytes(40);
    const { location } = await startUpload(target(), name);
    const patch = await target().fetch(location, { method: "PATCH", body: data });
    await expectStatus(patch, 202);
    const del = await target().fetch(locationOf(patch), { method: "DELETE" });
    await expectStatus(del, 204);
    await del.body?.cancel();
    await expectError(await target().fetch(location), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectError(
      await target().fetch(withQuery(location, { digest: sha256(data) }), { method: "PUT" }),
      404,
      "BLOB_UPLOAD_UNKNOWN",
    );
    await expectError(await target().fetch(location, { method: "DELETE" }), 404, "BLOB_UPLOAD_UNKNOWN");
    expect(await blobStatus(target(), name, sha256(data))).toBe(404);
  });

  for (const method of ["GET", "PATCH", "PUT", "DELETE"]) {
    it(`${method} /v2/<name>/blobs/uploads/<unknown id> -> 404 BLOB_UPLOAD_UNKNOWN`, async () => {
      const name = uniqueName();
      await startUpload(target(), name); // the repository has uploads, just not this one
      const path = `/v2/${name}/blobs/uploads/${FAKE_UUID}`;
      const res = await target().fetch(method === "PUT" ? withQuery(path, { digest: sha256("x") }) : path, {
        method,
        body: method === "PATCH" || method === "PUT" ? "x" : undefined,
      });
      await expectError(res, 404, "BLOB_UPLOAD_UNKNOWN");
    });
  }

  // ("/uploads/.." is a non-canonical target: errors.test.ts sends it over a raw socket.)
  for (const id of ["not-a-uuid", "..%2F..%2Fblobs", "%2e%2e%2fx", "a".repeat(300)]) {
    it(`GET /v2/<name>/blobs/uploads/${id.slice(0, 20)} (malformed id) -> 404 BLOB_UPLOAD_UNKNOWN`, async () => {
      await expectError(await target().fetch(`/v2/${uniqueName()}/blobs/uploads/${id}`), 404, "BLOB_UPLOAD_UNKNOWN");
    });
  }

  it("PUT /v2/<name>/blobs/uploads/<id>?digest= twice at once (a retry) -> 201 and 201 or 404 BLOB_UPLOAD_UNKNOWN, never 500", async () => {
    const name = uniqueName();
    const data = randomBytes(300_000);
    const { location } = await startUpload(target(), name);
    await expectStatus(await target().fetch(location, { method: "PATCH", body: data }), 202);
    const url = withQuery(location, { digest: sha256(data) });
    const results = await Promise.all([0, 1].map(() => target().fetch(url, { method: "PUT" })));
    const statuses = results.map((res) => res.status).sort();
    expect([[201, 201], [201, 404]]).toContainEqual(statuses);
    for (const res of results) if (res.status === 404) await expectError(res, 404, "BLOB_UPLOAD_UNKNOWN");
    const blob = await getBlob(target(), name, sha256(data));
    expect(fingerprint(blob)).toBe(fingerprint(data));
  });

  it("GET /v2/<other>/blobs/uploads/<id> of a session started in <name> -> 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const name = uniqueName();
    const other = uniqueName();
    const { location } = await startUpload(target(), name);
    const foreign = location.replace(`/v2/${name}/`, `/v2/${other}/`);
    expect(foreign).not.toBe(location);
    await expectError(await target().fetch(foreign), 404, "BLOB_UPLOAD_UNKNOWN");
    const data = randomBytes(5);
    await expectError(
      await target().fetch(withQuery(foreign, { digest: sha256(data) }), { method: "PUT", body: data }),
      404,
      "BLOB_UPLOAD_UNKNOWN",
    );
    expect(await blobStatus(target(), other, sha256(data))).toBe(404);
  });

  it.skipIf(!caps.socket)(
    "PATCH /v2/<name>/blobs/uploads/<id> client disconnects mid-body -> nothing kept, server still serves",
    async () => {
      const t = target();
      const name = uniqueName();
      const data = randomBytes(256 * 1024);
      const { location } = await startUpload(t, name);
      const partial = data.slice(0, 64 * 1024);
      await abortedRequest(t.baseUrl!, "PATCH", location, {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(data.byteLength),
      }, partial);
      // The server may take a moment to notice; the session stays, and never grows.
      await vi.waitFor(async () => {
        const status = await t.fetch(location);
        await status.body?.cancel();
        expect(status.status).toBe(204);
        expect(status.headers.get("range")).toBe("0-0");
      }, { timeout: 3000, interval: 100 });
      expect(await blobStatus(t, name, sha256(partial))).toBe(404);
      expect(await blobStatus(t, name, sha256(data))).toBe(404);

      // The server still works, including a fresh upload of the same bytes.
      const ping = await rawRequest(t.baseUrl!, "GET", "/v2/");
      expect(ping.status).toBe(200);
      const retry = await startUpload(t, name);
      const patch = await t.fetch(retry.location, { method: "PATCH", body: data });
      await expectStatus(patch, 202);
      const put = await t.fetch(withQuery(locationOf(patch), { digest: sha256(data) }), { method: "PUT" });
      await expectStatus(put, 201);
      expect(sha256(await getBlob(t, name, sha256(data)))).toBe(sha256(data));
    },
  );

  it.skipIf(!caps.socket)(
    "PATCH /v2/<name>/blobs/uploads/<id> disconnect then resume on the same session -> 201 with the right digest",
    async () => {
      const t = target();
      const name = uniqueName();
      const data = randomBytes(128 * 1024);
      const { location } = await startUpload(t, name);
      await abortedRequest(t.baseUrl!, "PATCH", location, { "Content-Length": String(data.byteLength) }, data.slice(0, 1000));
      await vi.waitFor(async () => {
        const status = await t.fetch(location);
        expect(status.status).toBe(204);
        expect(status.headers.get("range")).toBe("0-0");
      }, { timeout: 3000, interval: 100 });
      const patch = await t.fetch(location, { method: "PATCH", body: data });
      await expectStatus(patch, 202);
      expect(patch.headers.get("range")).toBe(`0-${data.byteLength - 1}`);
      const put = await t.fetch(withQuery(locationOf(patch), { digest: sha256(data) }), { method: "PUT" });
      await expectStatus(put, 201);
    },
  );
});

describeTargets("upload expiry", (kind) => {
  const target = useTarget(kind, { uploadExpiryMs: 1000 });

  it("PATCH /v2/<name>/blobs/uploads/<id> after uploadExpiryMs idle -> 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const name = uniqueName();
    const { location } = await startUpload(target(), name);
    const early = await target().fetch(location, { method: "PATCH", body: randomBytes(10) });
    await expectStatus(early, 202);
    await new Promise((r) => setTimeout(r, 1600));
    await expectError(
      await target().fetch(locationOf(early), { method: "PATCH", body: randomBytes(10) }),
      404,
      "BLOB_UPLOAD_UNKNOWN",
    );
  });

  it("PATCH /v2/<name>/blobs/uploads/<id> every 400 ms (uploadExpiryMs 1000) -> the session stays alive, 202 each time", async () => {
    const name = uniqueName();
    const { location } = await startUpload(target(), name);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 400));
      const res = await target().fetch(location, { method: "PATCH", body: randomBytes(1) });
      await expectStatus(res, 202);
    }
  });
}, ["limits"]);
