/**
 * The serving path's half of the sweep handshake (sweep-marks.ts): after a request wrote what
 * makes something live, it confirms the collector will not remove it, or fails cleanly.
 */
import type { Context } from "../context.ts";
import { parseDigest, type Digest } from "../digest.ts";
import { RegistryError } from "../errors.ts";
import type { ParsedManifest } from "../manifests.ts";
import { blobKey, catalogKey, revisionKey, tagKey } from "../paths.ts";
import { survivesSweep } from "./sweep-marks.ts";

export interface ManifestWrite {
  name: string;
  digest: Digest;
  manifest: ParsedManifest;
  tag?: string;
  /** Put the manifest's bytes, revision and referrer entry (again). */
  writeManifest(): Promise<void>;
  writeTag(): Promise<void>;
  markRepository(): Promise<void>;
  /** Take back what writeManifest wrote (only when the manifest cannot be kept). */
  removeManifest(): Promise<void>;
}

/**
 * Called after the revision is written: every blob and child it names survives any sweep in
 * progress, or MANIFEST_BLOB_UNKNOWN (never a 201 pointing at nothing). Then the tag is
 * written, and the manifest's own keys are confirmed (rewritten if a sweep took them).
 */
export async function confirmManifestPut(ctx: Context, put: ManifestWrite): Promise<void> {
  const { store } = ctx;
  for (const blob of put.manifest.blobs) {
    if (!(await survivesSweep(store, blobKey(parseDigest(blob.digest))))) return refuse(put, blob.digest);
  }
  for (const child of put.manifest.children) {
    if (!(await survivesSweep(store, revisionKey(put.name, parseDigest(child.digest))))) return refuse(put, child.digest);
  }
  if (put.tag !== undefined) await put.writeTag();
  for (let attempt = 0; attempt < 3; attempt++) {
    let rewrote = false;
    if (!(await survivesSweep(store, blobKey(put.digest))) || !(await survivesSweep(store, revisionKey(put.name, put.digest)))) {
      await put.writeManifest();
      rewrote = true;
    }
    if (put.tag !== undefined && !(await survivesSweep(store, tagKey(put.name, put.tag)))) {
      await put.writeTag();
      rewrote = true;
    }
    if (!(await survivesSweep(store, catalogKey(put.name)))) {
      await put.markRepository();
      rewrote = true;
    }
    if (!rewrote) return;
  }
  throw new RegistryError("TOOMANYREQUESTS", { digest: put.digest.value }, { status: 503, message: "garbage collection keeps removing this manifest; retry" });
}

/**
 * A referenced blob or child is gone for good (the sweep settled and took it). No other PUT of
 * this manifest can have succeeded (see README), so the revision is taken back too.
 */
async function refuse(put: ManifestWrite, digest: string): Promise<never> {
  await put.removeManifest();
  throw new RegistryError("MANIFEST_BLOB_UNKNOWN", { digest }, { message: "a blob the manifest references was just garbage collected" });
}

/** After linking a blob into a repository: the link and the catalog entry survive any sweep. */
export async function confirmLink(ctx: Context, linkKey: string, relink: () => Promise<void>, name: string, markRepository: () => Promise<void>): Promise<void> {
  if (!(await survivesSweep(ctx.store, linkKey))) await relink();
  if (!(await survivesSweep(ctx.store, catalogKey(name)))) await markRepository();
}
