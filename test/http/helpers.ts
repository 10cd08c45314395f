/** Shared helpers for the HTTP suite: digests, pushing content, reading errors. */
import { createHash, randomBytes as nodeRandomBytes } from "node:crypto";
import { expect } from "vitest";
import type { Target } from "../targets/index.ts";

export const MT = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociEmpty: "application/vnd.oci.empty.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

export const API_VERSION = "registry/2.0";

/** Bytes backed by a plain ArrayBuffer (what fetch bodies accept). */
export type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();
export const utf8 = (text: string): Bytes => encoder.encode(text);
const asBytes = (data: Uint8Array | string): Bytes =>
  typeof data === "string" ? utf8(data) : (new Uint8Array(data) as Bytes);

export const sha256 = (data: Uint8Array | string): string =>
  `sha256:${createHash("sha256").update(asBytes(data)).digest("hex")}`;
export const sha512 = (data: Uint8Array | string): string =>
  `sha512:${createHash("sha512").update(asBytes(data)).digest("hex")}`;

/** Length and sha256 of some bytes: compares large arrays fast and prints readably. */
export const fingerprint = (bytes: Uint8Array | null | undefined): string | null =>
  bytes ? `${bytes.byteLength} bytes ${createHash("sha256").update(bytes).digest("hex")}` : null;

export function randomBytes(size: number): Bytes {
  const out = new Uint8Array(size);
  out.set(nodeRandomBytes(size));
  return out;
}

/** The `{}` blob OCI artifacts use as config. */
export const EMPTY_JSON = "{}";
export const EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/** A digest that names nothing anywhere. */
export const unknownDigest = (): string => sha256(randomBytes(32));

let counter = 0;
/** A fresh, valid repository name: tests on a shared target never see each other's state. */
export function uniqueName(prefix = "test"): string {
  counter += 1;
  return `${prefix}/r${process.pid.toString(36)}-${Date.now().toString(36)}-${counter}`;
}

export const basicAuth = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** A stream that yields `chunks` one by one (a chunked request body). */
export function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

export function concatBytes(...parts: Uint8Array[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

export const bodyBytes = async (res: Response): Promise<Bytes> => new Uint8Array(await res.arrayBuffer());

/** The path (+query) a Location or Link URL points at; absolute and relative both accepted. */
export function toPath(url: string): string {
  const resolved = new URL(url, "http://registry.test");
  return resolved.pathname + resolved.search;
}

export function locationOf(res: Response): string {
  const location = res.headers.get("location");
  expect(location, "Location header").toBeTruthy();
  return toPath(location!);
}

/** Add query parameters to a (possibly already parameterized) path. */
export function withQuery(path: string, params: Record<string, string>): string {
  const url = new URL(path, "http://registry.test");
  for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
  return url.pathname + url.search;
}

/** The path of a `Link: <...>; rel="next"` header, or null. */
export function nextLink(res: Response): string | null {
  const link = res.headers.get("link");
  if (!link) return null;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  expect(match, `Link header ${link} has rel="next"`).toBeTruthy();
  return toPath(match![1]!);
}

export interface OciError {
  code: string;
  message: string;
  detail: unknown;
}

/** Check an error body's shape, {"errors":[{code,message,detail}]}, and return its errors. */
export function checkErrorShape(text: string): OciError[] {
  let body: { errors?: OciError[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`error body is not JSON: ${text.slice(0, 200)}`);
  }
  expect(Array.isArray(body.errors), `errors array in ${text.slice(0, 200)}`).toBe(true);
  expect(body.errors!.length).toBeGreaterThan(0);
  for (const error of body.errors!) {
    expect(error.code).toMatch(/^[A-Z_]+$/);
    expect(typeof error.message).toBe("string");
    expect(Object.keys(error)).toContain("detail");
  }
  return body.errors!;
}

/** Assert an OCI error response: status, JSON body of the right shape, `code` among its codes. */
export async function expectError(res: Response, status: number, code: string): Promise<OciError[]> {
  const text = await res.text();
  let codes: unknown[] = [];
  try {
    const parsed = JSON.parse(text);
    if (Array.isArray(parsed?.errors)) codes = parsed.errors.map((e: { code?: unknown }) => e?.code);
  } catch {
    // not JSON: reported below
  }
  expect({ status: res.status, codes }, `body: ${text.slice(0, 300)}`).toEqual({
    status,
    codes: expect.arrayContaining([code]),
  });
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  return checkErrorShape(text);
}

async function safeText(res: Response): Promise<string> {
  try {
    return (await res.text()).slice(0, 300);
  } catch {
    return "";
  }
}

/** Assert a status, showing the body on mismatch. Consumes nothing on success. */
export async function expectStatus(res: Response, status: number): Promise<void> {
  if (res.status !== status) {
    expect(`${res.status} ${await safeText(res)}`).toBe(`${status}`);
  }
}

/** POST /v2/<name>/blobs/uploads/ and return the session's Location path. */
export async function startUpload(t: Target, name: string): Promise<{ location: string; res: Response }> {
  const res = await t.fetch(`/v2/${name}/blobs/uploads/`, { method: "POST", headers: { "Content-Length": "0" } });
  await expectStatus(res, 202);
  await res.body?.cancel();
  return { location: locationOf(res), res };
}

/** Push a blob with POST + PUT-with-body (as containerd does). Returns its sha256 digest. */
export async function pushBlob(t: Target, name: string, data: Uint8Array | string): Promise<string> {
  const bytes = asBytes(data);
  const digest = sha256(bytes);
  const { location } = await startUpload(t, name);
  const res = await t.fetch(withQuery(location, { digest }), {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream" },
    body: bytes,
  });
  await expectStatus(res, 201);
  await res.body?.cancel();
  return digest;
}

/** Push a blob as skopeo and podman do: POST, one PATCH with the whole blob, PUT ?digest=. */
export async function pushBlobInOnePatch(t: Target, name: string, data: Uint8Array | string): Promise<string> {
  const bytes = asBytes(data);
  const digest = sha256(bytes);
  const { location } = await startUpload(t, name);
  const patch = await t.fetch(location, { method: "PATCH", body: bytes, headers: { "Content-Type": "application/octet-stream" } });
  await expectStatus(patch, 202);
  const put = await t.fetch(withQuery(locationOf(patch), { digest }), { method: "PUT" });
  await expectStatus(put, 201);
  return digest;
}

export async function pushManifest(
  t: Target,
  name: string,
  reference: string,
  body: string | Uint8Array,
  mediaType: string = MT.ociManifest,
): Promise<{ digest: string; res: Response }> {
  const res = await t.fetch(`/v2/${name}/manifests/${reference}`, {
    method: "PUT",
    headers: { "Content-Type": mediaType },
    body: asBytes(body),
  });
  await expectStatus(res, 201);
  await res.body?.cancel();
  return { digest: sha256(asBytes(body)), res };
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export const describeBytes = (mediaType: string, data: Uint8Array | string): Descriptor => ({
  mediaType,
  digest: sha256(asBytes(data)),
  size: asBytes(data).byteLength,
});

/** An image manifest as JSON text. `mediaType: null` leaves the field out. */
export function imageManifest(options: {
  config: Descriptor;
  layers: Descriptor[];
  mediaType?: string | null;
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}): string {
  const doc: Record<string, unknown> = { schemaVersion: 2 };
  if (options.mediaType !== null) doc.mediaType = options.mediaType ?? MT.ociManifest;
  if (options.artifactType) doc.artifactType = options.artifactType;
  doc.config = options.config;
  doc.layers = options.layers;
  if (options.subject) doc.subject = options.subject;
  if (options.annotations) doc.annotations = options.annotations;
  return JSON.stringify(doc, null, 3) + "\n"; // odd indentation: the registry must keep bytes as sent
}

export function indexManifest(options: {
  manifests: Descriptor[];
  mediaType?: string | null;
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}): string {
  const doc: Record<string, unknown> = { schemaVersion: 2 };
  if (options.mediaType !== null) doc.mediaType = options.mediaType ?? MT.ociIndex;
  if (options.artifactType) doc.artifactType = options.artifactType;
  doc.manifests = options.manifests;
  if (options.subject) doc.subject = options.subject;
  if (options.annotations) doc.annotations = options.annotations;
  return JSON.stringify(doc);
}

export interface PushedImage {
  name: string;
  manifest: string;
  digest: string;
  mediaType: string;
  size: number;
  config: Descriptor;
  layers: Descriptor[];
  layerBytes: Bytes[];
}

/** Push a config, `layerCount` random layers and an image manifest (OCI unless `docker`). */
export async function pushImage(
  t: Target,
  name: string,
  reference?: string,
  options: { docker?: boolean; layerCount?: number; annotations?: Record<string, string> } = {},
): Promise<PushedImage> {
  const docker = options.docker ?? false;
  const configBytes = utf8(JSON.stringify({ architecture: "amd64", os: "linux", nonce: Math.random() }));
  await pushBlob(t, name, configBytes);
  const config = describeBytes(docker ? MT.dockerConfig : MT.ociConfig, configBytes);
  const layerBytes: Bytes[] = [];
  const layers: Descriptor[] = [];
  for (let i = 0; i < (options.layerCount ?? 1); i++) {
    const bytes = randomBytes(100 + i * 37);
    await pushBlob(t, name, bytes);
    layerBytes.push(bytes);
    layers.push(describeBytes(docker ? MT.dockerLayer : MT.ociLayer, bytes));
  }
  const mediaType = docker ? MT.dockerManifest : MT.ociManifest;
  const manifest = imageManifest({ config, layers, mediaType, annotations: options.annotations });
  const digest = sha256(manifest);
  await pushManifest(t, name, reference ?? digest, manifest, mediaType);
  return { name, manifest, digest, mediaType, size: utf8(manifest).byteLength, config, layers, layerBytes };
}

/** Push the `{}` config blob artifacts use. */
export async function pushEmptyConfig(t: Target, name: string): Promise<Descriptor> {
  await pushBlob(t, name, EMPTY_JSON);
  return { mediaType: MT.ociEmpty, digest: EMPTY_DIGEST, size: 2 };
}

/** GET a blob and return its bytes, asserting 200. */
export async function getBlob(t: Target, name: string, digest: string): Promise<Bytes> {
  const res = await t.fetch(`/v2/${name}/blobs/${digest}`);
  await expectStatus(res, 200);
  return bodyBytes(res);
}

export async function blobStatus(t: Target, name: string, digest: string): Promise<number> {
  const res = await t.fetch(`/v2/${name}/blobs/${digest}`, { method: "HEAD" });
  await res.body?.cancel();
  return res.status;
}
