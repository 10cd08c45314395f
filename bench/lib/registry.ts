// The OCI distribution calls the workloads make, in the shapes real clients use
// (see /work/shared/client-traces): skopeo/podman push, containerd monolithic push, pulls.
import type { Blob } from "./data.ts";
import { imageConfig } from "./data.ts";
import { expectStatus, HttpError, request, resolveLocation, withQuery } from "./http.ts";
import { rawGet } from "./raw-get.ts";

const OCTET = { "content-type": "application/octet-stream" };
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

async function startUpload(base: string, repo: string): Promise<string> {
  const r = await request(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  return resolveLocation(base, expectStatus(r, 202, "POST upload"), "POST upload");
}

function checkDigest(reply: { headers: Record<string, unknown> }, blob: Blob, what: string): void {
  const got = reply.headers["docker-content-digest"];
  if (got !== undefined && got !== blob.digest) throw new HttpError(`${what}: Docker-Content-Digest ${got} != ${blob.digest}`);
}

/** skopeo/podman: POST, one streamed (chunked) PATCH with the whole blob, PUT ?digest= with no body. */
export async function pushStreamed(base: string, repo: string, blob: Blob): Promise<void> {
  const loc = await startUpload(base, repo);
  const patched = await request(loc, {
    method: "PATCH",
    headers: OCTET,
    body: { blob, contentLength: false },
  });
  expectStatus(patched, 202, "PATCH upload");
  const next = resolveLocation(base, patched, "PATCH upload");
  const put = await request(withQuery(next, "digest", blob.digest), { method: "PUT", headers: OCTET });
  checkDigest(expectStatus(put, 201, "PUT upload ?digest="), blob, "PUT upload");
}

/** containerd: POST, then PUT ?digest= carrying the whole body (with Content-Length). */
export async function pushMonolithic(base: string, repo: string, blob: Blob): Promise<void> {
  const loc = await startUpload(base, repo);
  const put = await request(withQuery(loc, "digest", blob.digest), { method: "PUT", headers: OCTET, body: { blob } });
  checkDigest(expectStatus(put, 201, "PUT upload ?digest= with body"), blob, "PUT upload");
}

/** HEAD must report the real Content-Length. */
export async function checkBlob(base: string, repo: string, blob: Blob): Promise<void> {
  const r = expectStatus(await request(`${base}/v2/${repo}/blobs/${blob.digest}`, { method: "HEAD" }), 200, "HEAD blob");
  if (r.headers["content-length"] !== String(blob.size)) {
    throw new HttpError(`HEAD blob: Content-Length ${r.headers["content-length"]} != ${blob.size}`);
  }
}

/** GET a blob (optionally a byte range [start, end)), checking every chunk; returns bytes received. */
export async function pullBlob(base: string, repo: string, blob: Blob, range?: [number, number]): Promise<number> {
  const headers: Record<string, string> = range ? { Range: `bytes=${range[0]}-${range[1] - 1}` } : {};
  const offset = range ? range[0] : 0;
  let verified = true;
  const r = await rawGet(`${base}/v2/${repo}/blobs/${blob.digest}`, headers, (chunk, at) => {
    if (verified) verified = blob.matches(offset + at, chunk);
  });
  const expected = range ? range[1] - range[0] : blob.size;
  if (r.status !== (range ? 206 : 200)) throw new HttpError(`GET blob${range ? " (Range)" : ""}: status ${r.status}`);
  if (r.received !== expected) throw new HttpError(`GET blob: received ${r.received} bytes, expected ${expected}`);
  if (!verified) throw new HttpError("GET blob: content differs from what was pushed");
  return r.received;
}

/** Pushes a one-layer image (small config + the given layer) and tags it; returns the manifest bytes. */
export async function pushImage(base: string, repo: string, tag: string, layer: Blob): Promise<Buffer> {
  const config = imageConfig(layer);
  for (const b of [config, layer]) await pushMonolithic(base, repo, b);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: config.size },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layer.digest, size: layer.size }],
  }));
  const r = await request(`${base}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": OCI_MANIFEST },
    body: manifest,
  });
  expectStatus(r, 201, "PUT manifest");
  const got = await request(`${base}/v2/${repo}/manifests/${tag}`, { method: "GET", headers: { accept: OCI_MANIFEST } });
  if (!expectStatus(got, 200, "GET manifest").body.equals(manifest)) throw new HttpError("GET manifest: bytes differ");
  return manifest;
}

/** OCI chunked upload: POST, `pieces` PATCHes each with Content-Range and Content-Length, PUT ?digest= with no body. */
export async function pushChunked(base: string, repo: string, blob: Blob, pieces = 3): Promise<void> {
  let loc = await startUpload(base, repo);
  const step = Math.ceil(blob.size / pieces);
  for (let start = 0; start < blob.size; start += step) {
    const end = Math.min(blob.size, start + step);
    const r = await request(loc, {
      method: "PATCH",
      headers: { ...OCTET, "content-range": `${start}-${end - 1}` },
      body: { blob, start, end },
    });
    loc = resolveLocation(base, expectStatus(r, 202, "PATCH upload chunk"), "PATCH upload chunk");
  }
  const put = await request(withQuery(loc, "digest", blob.digest), { method: "PUT", headers: OCTET });
  checkDigest(expectStatus(put, 201, "PUT upload ?digest= after chunks"), blob, "PUT upload");
}

/** DELETE a blob of `repo` (202). */
export async function deleteBlob(base: string, repo: string, digest: string): Promise<void> {
  expectStatus(await request(`${base}/v2/${repo}/blobs/${digest}`, { method: "DELETE" }), 202, "DELETE blob");
}
