/** Images with chosen layers, and whole pulls, for the garbage collection suites. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Target } from "../targets/index.ts";
import { bodyBytes, describeBytes, expectStatus, fingerprint, imageManifest, MT, pushBlob, pushManifest, sha256, utf8, type Bytes, type Descriptor } from "./helpers.ts";

export interface Image {
  manifest: string;
  digest: string;
  config: Descriptor;
  layers: Descriptor[];
  blobs: Map<string, Bytes>;
}

/** Push an image of exactly these layers (and a fresh config) to `name`, at `reference` (default: by digest). */
export async function pushLayers(t: Target, name: string, layers: Bytes[], reference?: string): Promise<Image> {
  const configBytes = utf8(JSON.stringify({ architecture: "amd64", os: "linux", nonce: Math.random() }));
  const blobs = new Map<string, Bytes>([[sha256(configBytes), configBytes]]);
  await pushBlob(t, name, configBytes);
  for (const layer of layers) {
    await pushBlob(t, name, layer);
    blobs.set(sha256(layer), layer);
  }
  const config = describeBytes(MT.ociConfig, configBytes);
  const descriptors = layers.map((layer) => describeBytes(MT.ociLayer, layer));
  const manifest = imageManifest({ config, layers: descriptors });
  const digest = sha256(manifest);
  await pushManifest(t, name, reference ?? digest, manifest);
  return { manifest, digest, config, layers: descriptors, blobs };
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
