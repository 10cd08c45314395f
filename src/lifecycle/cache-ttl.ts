/**
 * Pull-through cache content not pulled for `gc.cacheTtl` goes (README, Storage lifecycle).
 * A cached tag has a record `_proxy/tags/<tag>` (src/proxy/manifest-cache.ts) that the cache
 * writes whenever it revalidates the tag and at least hourly while the tag is pulled, so the
 * record's write time is when the tag was last pulled (within PULL_MARK_INTERVAL_MS). A tag
 * whose record is older than the TTL is deleted, with its record; what only it kept is then
 * untagged and collected as usual. In a repository with cached tags, untagged manifests
 * (pulled by digest) stay until their revision is older than the TTL. Pushed repositories
 * have no records and are never touched by this.
 */
import { proxyRoot, proxyTagKey, tagKey } from "../paths.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { youngAfter, type GcState } from "./state.ts";
import { listKeys, readTags, readText, sweepKey, type TagEntry } from "./walk.ts";

/** How often a pull of a fresh cached tag rewrites its record (so a pull is rarely a write). */
export const PULL_MARK_INTERVAL_MS = 3_600_000;

/**
 * Delete the repository's cached tags not pulled within the TTL; returns the tags left and
 * whether the repository is a cache (it has tag records), or undefined when the TTL is off.
 */
export async function expireCachedTags(store: BlobStore, state: GcState, name: string, tags: TagEntry[]): Promise<{ tags: TagEntry[]; cache: boolean } | undefined> {
  const ttl = state.options.cacheTtlMs ?? 0;
  if (ttl <= 0) return undefined;
  const records = await listKeys(store, `${proxyRoot(name)}tags/`);
  if (records.length === 0) return { tags, cache: false };
  const pulledBefore = cachedManifestsYoungAfter(state);
  let expired = 0;
  for (const entry of tags) {
    const record = await store.head(proxyTagKey(name, entry.tag));
    if (!record || record.modifiedMs >= pulledBefore) continue;
    expired++;
    if (!state.options.dryRun && !(await deleteCachedTag(store, name, entry, pulledBefore))) continue;
    state.report.tags.push(`${name}:${entry.tag}`);
  }
  if (expired === 0) return { tags, cache: true };
  const left = state.options.dryRun ? tags.filter((t) => !state.report.tags.includes(`${name}:${t.tag}`)) : await readTags(store, name);
  return { tags: left, cache: true };
}

/** Cache content written or pulled after this stays: within the TTL, or too young for this run. */
export const cachedManifestsYoungAfter = (state: GcState) => Math.min(state.startedAt - (state.options.cacheTtlMs ?? 0), youngAfter(state));

/** Delete the tag unless it was pulled (its record rewritten) or re-fetched since it was read. */
async function deleteCachedTag(store: BlobStore, name: string, entry: TagEntry, pulledBefore: number): Promise<boolean> {
  const key = tagKey(name, entry.tag);
  const deleted = await sweepKey(store, key, async () => {
    const record = await store.head(proxyTagKey(name, entry.tag));
    return (await readText(store, key)) === entry.text && record !== null && record.modifiedMs < pulledBefore;
  });
  if (deleted) await store.delete(proxyTagKey(name, entry.tag));
  return deleted;
}
