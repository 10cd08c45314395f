/**
 * Every storage key Berth uses is built here, from names, tags and digests that were
 * validated first (reference.ts, digest.ts) and upload ids that match UPLOAD_ID.
 * Layout, modelled on distribution's:
 *
 *   blobs/<alg>/<hex[0..2]>/<hex>/data                     bytes, stored once per registry
 *   repositories/<name>/_layers/<alg>/<hex>/link           the repo may read this blob
 *   repositories/<name>/_manifests/revisions/<alg>/<hex>/link   {mediaType, size, ...}
 *   repositories/<name>/_manifests/tags/<tag>              the tagged manifest: digest + revision
 *   repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex>/link  descriptor of a referrer
 *   repositories/<name>/_proxy/tags/<tag>                  pull-through cache: when the tag was last checked
 *   repositories-index/<name>+                             marks a repository as existing
 *   uploads/<id>/state.json                                upload session state
 *   uploads/<id>/part-<seq>                                bytes received so far, in parts
 *   blobs/<alg>/<hex[0..2]>/<hex>/touched                  last time a client was told the blob exists
 *   gc/sweeping/<key, "/" as "+">                          garbage collection is about to delete <key>
 *   gc/state.json                                          a collection in progress (Workers slices)
 *   health/<uuid>                                          a readiness probe's write, deleted at once
 *
 * Name components never start with "_", so no key is a directory of another's leaf.
 *
 * The repository index ends each name with "+", which sorts below every character a name
 * may hold, so its keys sort exactly as the names do and a catalog page is one listing
 * from `last`. (The first layout, `catalog/<name>/_repo`, did not: "a/_repo" sorts after
 * "a-b/_repo". src/catalog-migration.ts moves such keys over.)
 */
import type { Digest } from "./digest.ts";

export const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const digestPath = (digest: Digest) => `${digest.algorithm}/${digest.hex}`;
const repo = (name: string) => `repositories/${name}`;

export const BLOBS_PREFIX = "blobs/";
const blobDir = (digest: Digest) => `${BLOBS_PREFIX}${digest.algorithm}/${digest.hex.slice(0, 2)}/${digest.hex}`;
export const blobKey = (digest: Digest) => `${blobDir(digest)}/data`;
export const touchKey = (digest: Digest) => `${blobDir(digest)}/touched`;
// Only keys Berth can have written (digest.ts's algorithms, at their lengths): a stray folder
// under blobs/ is no blob, and a listing must be able to pass over it.
const BLOB_KEY = /^blobs\/(?:(sha256)\/[0-9a-f]{2}\/([0-9a-f]{64})|(sha512)\/[0-9a-f]{2}\/([0-9a-f]{128}))\/(?:data|touched)$/;
/** `sha256:<hex>` of a key under BLOBS_PREFIX (data or touched), or null for anything else. */
export function digestTextOfBlobKey(key: string): string | null {
  const match = BLOB_KEY.exec(key);
  return match ? `${match[1] ?? match[3]}:${match[2] ?? match[4]}` : null;
}
/** Every referrer entry of a repository (not of repositories nested under its name). */
export const referrersRoot = (name: string) => `${repo(name)}/_referrers/`;
export const layersPrefix = (name: string) => `${repo(name)}/_layers/`;
export const revisionsPrefix = (name: string) => `${repo(name)}/_manifests/revisions/`;
/** `sha256:<hex>` of a link key under layersPrefix/revisionsPrefix. */
export function digestTextOfLinkKey(key: string): string | null {
  const match = /\/([a-z0-9]+)\/([0-9a-f]+)\/link$/.exec(key);
  return match ? `${match[1]}:${match[2]}` : null;
}
export const layerLinkKey = (name: string, digest: Digest) => `${repo(name)}/_layers/${digestPath(digest)}/link`;
export const revisionKey = (name: string, digest: Digest) => `${repo(name)}/_manifests/revisions/${digestPath(digest)}/link`;

export const tagsPrefix = (name: string) => `${repo(name)}/_manifests/tags/`;
// A leaf per tag (tags have no "/"), so keys sort exactly as tags do and `last` pages by key.
export const tagKey = (name: string, tag: string) => `${tagsPrefix(name)}${tag}`;
/** The tag a key from `tagsPrefix(name)` names. */
export const tagFromKey = (name: string, key: string) => key.slice(tagsPrefix(name).length);

/** Pull-through cache: when a tag of a proxied repository was last confirmed at the upstream. */
export const proxyRoot = (name: string) => `${repo(name)}/_proxy/`;
export const proxyTagKey = (name: string, tag: string) => `${proxyRoot(name)}tags/${tag}`;

export const referrersPrefix = (name: string, subject: Digest) => `${repo(name)}/_referrers/${digestPath(subject)}/`;
export const referrerKey = (name: string, subject: Digest, referrer: Digest) =>
  `${referrersPrefix(name, subject)}${referrer.algorithm}-${referrer.hex}/link`;

export const CATALOG_PREFIX = "repositories-index/";
export const catalogKey = (name: string) => `${CATALOG_PREFIX}${name}+`;
export const nameFromCatalogKey = (key: string) => key.slice(CATALOG_PREFIX.length, -1);

/** The first layout of the index; only read, to move its keys (src/catalog-migration.ts). */
export const LEGACY_CATALOG_PREFIX = "catalog/";
export const LEGACY_CATALOG_SUFFIX = "/_repo";

export const SWEEP_MARKS_PREFIX = "gc/sweeping/";
// One flat folder of marks ("/" as "+", which no name, tag or digest contains): a mark costs a
// file, not a chain of directories to make and prune.
export const sweepMarkKey = (key: string) => `${SWEEP_MARKS_PREFIX}${key.replaceAll("/", "+")}`;
export const GC_STATE_KEY = "gc/state.json";

export const UPLOADS_PREFIX = "uploads/";
export const uploadPrefix = (id: string) => `${UPLOADS_PREFIX}${id}/`;
export const uploadStateKey = (id: string) => `${uploadPrefix(id)}state.json`;
export const uploadPartKey = (id: string, seq: number) => `${uploadPrefix(id)}part-${String(seq).padStart(8, "0")}`;

/** A readiness probe's object (src/ops/health.ts); `id` is a random UUID of the probe's own making. */
export const healthProbeKey = (id: string) => `health/${id}`;
