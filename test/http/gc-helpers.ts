/** Images with chosen layers, and whole pulls, for the garbage collection suites. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Target } from "../targets/index.ts";
import { bodyBytes, describeBytes, expectError, expectStatus, fingerprint, imageManifest, MT, sha256, toPath, utf8, withQuery, type Bytes, type Descriptor } from "./helpers.ts";

export interface Image {
  manifest: string;
  digest: string;
  config: Descriptor;
  layers: Descriptor[];
  blobs: Map<string, Bytes>;
}

/**
 * POST an upload and PUT the bytes with their digest (as containerd does), without judging the
 * answer: the PUT's response, or the POST's when it was not 202. The caller reads or cancels the body.
 */
export async function uploadBlob(t: Target, name: string, bytes: Bytes): Promise<Response> {
  const start = await t.fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" });
  if (start.status !== 202) return start;
  await start.body?.cancel();
  return t.fetch(withQuery(toPath(start.headers.get("location")!), { digest: sha256(bytes) }), { method: "PUT", body: bytes });
}

/**
 * Push an image of exactly these layers (and a fresh config) to `name`, at `reference` (default:
 * by digest). With `attempts` > 1 a refused push starts again, as a client's would. Under a
 * zero-grace schedule a collection may take a blob no manifest names yet: as soon as its upload
 * published it (the upload's PUT: 404 BLOB_UPLOAD_UNKNOWN), or before the manifest arrives (400
 * MANIFEST_BLOB_UNKNOWN). Any other answer fails at once.
 */
export async function pushLayers(t: Target, name: string, layers: Bytes[], reference?: string, { attempts = 1 } = {}): Promise<Image> {
  const configBytes = utf8(JSON.stringify({ architecture: "amd64", os: "linux", nonce: Math.random() }));
  const blobs = new Map<string, Bytes>([[sha256(configBytes), configBytes], ...layers.map((layer) => [sha256(layer), layer] as [string, Bytes])]);
  const config = describeBytes(MT.ociConfig, configBytes);
  const descriptors = layers.map((layer) => describeBytes(MT.ociLayer, layer));
  const manifest = imageManifest({ config, layers: descriptors });
  const digest = sha256(manifest);
  const accepted = async (res: Response, refusal: [number, string], last: boolean) => {
    if (res.status === 201 || last) {
      await expectStatus(res, 201);
      await res.body?.cancel();
      return true;
    }
    await expectError(res, ...refusal);
    return false;
  };
  for (let attempt = 1; ; attempt++) {
    const last = attempt >= attempts;
    let uploaded = true;
    for (const bytes of blobs.values()) {
      if (!(uploaded = await accepted(await uploadBlob(t, name, bytes), [404, "BLOB_UPLOAD_UNKNOWN"], last))) break;
    }
    if (!uploaded) continue;
    const res = await t.fetch(`/v2/${name}/manifests/${reference ?? digest}`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: manifest });
    if (await accepted(res, [400, "MANIFEST_BLOB_UNKNOWN"], last)) return { manifest, digest, config, layers: descriptors, blobs };
  }
}

/** GET the manifest by digest and every blob it names: all 200 and byte-identical. */
export async function expectPullsWhole(t: Target, name: string, image: Image): Promise<void> {
  const res = await t.fetch(`/v2/${name}/manifests/${image.digest}`, { headers: { Accept: MT.ociManifest } });
  await expectStatus(res, 200);
  expect(new TextDecoder().decode(await bodyBytes(res))).toBe(image.manifest);
  for (const [digest, bytes] of image.blobs) {
    const blob = await t.fetch(`/v2/${name}/blobs/${digest}`);
    await expectStatus(blob, 200);
    expect(fingerprint(await bodyBytes(blob)), digest).toBe(fingerprint(bytes));
  }
}

export async function statusOf(t: Target, path: string, method = "GET"): Promise<number> {
  const res = await t.fetch(path, { method });
  await res.body?.cancel();
  return res.status;
}

/** Whether the blob's bytes are on disk, for targets that have a folder (null: no folder to look in). */
export function blobOnDisk(t: Target, digest: string): boolean | null {
  if (!t.rootDir) return null;
  const [algorithm, hex] = digest.split(":") as [string, string];
  return existsSync(join(t.rootDir, "blobs", algorithm, hex.slice(0, 2), hex, "data"));
}

/** The numbers of a `berth gc` report line. */
export function removedCounts(report: string): { tags: number; manifests: number; blobs: number; uploads: number; repositories: number } {
  const match = /(\d+) tags, (\d+) manifests, (\d+) blobs \([^)]*\), \d+ links, (\d+) upload sessions, (\d+) empty repositories/.exec(report);
  expect(match, report).not.toBeNull();
  const [, tags, manifests, blobs, uploads, repositories] = match!.map(Number) as number[];
  return { tags: tags!, manifests: manifests!, blobs: blobs!, uploads: uploads!, repositories: repositories! };
}
