// Read an OCI layout back and compare two layouts blob by blob.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Descriptor } from './oci-layout.ts';

export function layoutRef(dir: string, tag: string): Descriptor {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const found = index.manifests.find((m: Descriptor) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!found) throw new Error(`no ${tag} in ${dir}/index.json`);
  return found;
}

export function layoutBlob(dir: string, digest: string): Buffer {
  return readFileSync(join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
}

export async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return 'sha256:' + h.digest('hex');
}

/** Every blob reachable from `digest` (manifest or index) in `dir`, root first. */
export function reachable(dir: string, digest: string): string[] {
  const out = [digest];
  const doc = JSON.parse(layoutBlob(dir, digest).toString());
  for (const m of doc.manifests ?? []) out.push(...reachable(dir, m.digest));
  if (doc.config) out.push(doc.config.digest);
  for (const l of doc.layers ?? []) out.push(l.digest);
  return out;
}

/** The image named `tagA` in dirA and `tagB` in dirB are the same bytes, blob for blob. */
export async function expectSameImage(dirA: string, tagA: string, dirB: string, tagB: string): Promise<number> {
  const a = layoutRef(dirA, tagA);
  const b = layoutRef(dirB, tagB);
  expect(b.digest, 'manifest digest after the round trip').toBe(a.digest);
  expect(layoutBlob(dirB, b.digest).equals(layoutBlob(dirA, a.digest)), 'manifest bytes').toBe(true);
  const blobs = reachable(dirA, a.digest);
  for (const d of blobs) {
    const pb = join(dirB, 'blobs', 'sha256', d.replace(/^sha256:/, ''));
    expect(existsSync(pb), `blob ${d} present after the round trip`).toBe(true);
    expect(await fileDigest(pb), `blob ${d} content`).toBe(d);
  }
  return blobs.length;
}
