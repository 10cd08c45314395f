/** Reading the store's layout for the collector: keys, tags, revisions and what manifests name. */
import { parseDigest } from "../digest.ts";
import { moveLegacyIndex } from "../catalog-migration.ts";
import { parseManifest } from "../manifests.ts";
import { blobKey, CATALOG_PREFIX, digestTextOfLinkKey, nameFromCatalogKey, revisionsPrefix, sweepMarkKey, tagFromKey, tagsPrefix } from "../paths.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { readBytes } from "../streams.ts";
import { SWEEP_MARK_TTL_MS } from "./sweep-marks.ts";

const decoder = new TextDecoder();

export async function listKeys(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (let startAfter: string | undefined; ;) {
    const page = await store.list(prefix, { startAfter, limit: 1000 });
    keys.push(...page.keys);
    if (!page.truncated) return keys;
    startAfter = page.keys.at(-1);
  }
}

export async function readText(store: BlobStore, key: string): Promise<string | null> {
  const object = await store.get(key);
  return object ? decoder.decode(await readBytes(object)) : null;
}

/** Every repository, by its index key; a store of the first index layout is moved over first, so none is missed. */
export async function listRepositories(store: BlobStore): Promise<string[]> {
  await moveLegacyIndex(store);
  return (await listKeys(store, CATALOG_PREFIX)).filter((key) => key.endsWith("+")).map(nameFromCatalogKey);
}

export interface TagEntry {
  tag: string;
  digest: string;
  /** The tag object's write time: tells a re-push from the same state (plan.ts). */
  pushedMs: number;
  /**
   * When the tag was pushed, for retention's order: the link's own `pushedAt` (ms), else the
   * write time. Object stores report write times to the second (S3's Last-Modified), so
   * pushes within one second would tie and keepLast keep the wrong ones.
   */
  pushedAtMs: number;
  /** The tag object as read, to tell a re-push from the same state. */
  text: string;
}

export async function readTags(store: BlobStore, name: string): Promise<TagEntry[]> {
  const tags: TagEntry[] = [];
  for (const key of await listKeys(store, tagsPrefix(name))) {
    const [text, stat] = await Promise.all([readText(store, key), store.head(key)]);
    if (text === null || stat === null) continue; // deleted meanwhile
    try {
      const link = JSON.parse(text) as { digest: string; pushedAt?: unknown };
      const pushedAt = typeof link.pushedAt === "string" ? Date.parse(link.pushedAt) : NaN;
      tags.push({ tag: tagFromKey(name, key), digest: link.digest, pushedMs: stat.modifiedMs, pushedAtMs: Number.isFinite(pushedAt) ? pushedAt : stat.modifiedMs, text });
    } catch {
      // not a tag Berth wrote: leave it alone, reach nothing through it
    }
  }
  return tags;
}

export async function listRevisionDigests(store: BlobStore, name: string): Promise<string[]> {
  return (await listKeys(store, revisionsPrefix(name))).map(digestTextOfLinkKey).filter((d): d is string => d !== null);
}

export interface ManifestRefs {
  /** Config and layers. */
  blobs: string[];
  /** Index children. */
  children: string[];
  subject?: string;
}

/** What the stored manifest `digest` names; nothing when its bytes are missing or unreadable. */
export async function readManifestRefs(store: BlobStore, digest: string, mediaType?: string): Promise<ManifestRefs> {
  try {
    const object = await store.get(blobKey(parseDigest(digest)));
    if (!object) return { blobs: [], children: [] };
    const manifest = parseManifest(await readBytes(object), mediaType ?? null);
    return { blobs: manifest.blobs.map((b) => b.digest), children: manifest.children.map((c) => c.digest), subject: manifest.subject?.value };
  } catch {
    return { blobs: [], children: [] };
  }
}

/** Mark a kept manifest: its own bytes, and every blob and child it names. */
export function markManifest(marked: Set<string>, digest: string, refs: ManifestRefs): void {
  marked.add(digest);
  for (const blob of refs.blobs) marked.add(blob);
  for (const child of refs.children) marked.add(child);
}

/**
 * Delete `key` under a sweep mark (sweep-marks.ts). `stillGarbage` runs once the mark is up
 * and re-reads whatever could make the key live; the key goes only if it says so and the mark
 * is still young enough that no serving request has stopped honouring it.
 */
export async function sweepKey(store: BlobStore, key: string, stillGarbage: () => Promise<boolean>): Promise<boolean> {
  const markedAt = Date.now();
  await store.put(sweepMarkKey(key), new Uint8Array(0));
  try {
    if (!(await stillGarbage()) || Date.now() - markedAt > SWEEP_MARK_TTL_MS) return false;
    await store.delete(key);
    return true;
  } finally {
    await store.delete(sweepMarkKey(key));
  }
}
