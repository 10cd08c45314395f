/**
 * The collector's first phase, one repository at a time: apply its retention rule (delete the
 * tags it does not keep), collect the manifests nothing keeps (with --delete-untagged or a
 * rule), and mark everything the kept manifests reference.
 */
import { parseDigest } from "../digest.ts";
import { referrerKey, revisionKey, sweepMarkKey, tagKey } from "../paths.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { cachedManifestsYoungAfter, expireCachedTags } from "./cache-ttl.ts";
import { keptTags, ruleFor } from "./retention.ts";
import { SWEEP_MARK_TTL_MS } from "./sweep-marks.ts";
import { youngAfter, type GcState } from "./state.ts";
import { listRevisionDigests, markManifest, readManifestRefs, readTags, readText, sweepKey, type ManifestRefs, type TagEntry } from "./walk.ts";

export async function planRepository(store: BlobStore, state: GcState, name: string): Promise<void> {
  const { options, report } = state;
  const digests = await listRevisionDigests(store, name);
  const manifests = new Map<string, ManifestRefs>();
  for (const digest of digests) {
    state.seen.add(revisionKey(name, parseDigest(digest)));
    manifests.set(digest, await readManifestRefs(store, digest));
  }
  let tags = await readTags(store, name);
  const rule = ruleFor(options.retention, name);
  if (rule) {
    const kept = keptTags(rule, tags, state.startedAt);
    for (const entry of tags.filter((t) => !kept.has(t.tag))) {
      if (options.dryRun || (await deleteTag(store, name, entry))) report.tags.push(`${name}:${entry.tag}`);
    }
    tags = options.dryRun ? tags.filter((t) => kept.has(t.tag)) : await readTags(store, name);
  }
  const cached = await expireCachedTags(store, state, name, tags);
  if (cached) tags = cached.tags;

  const keep = new Set(manifests.keys());
  if (options.deleteUntagged || rule || cached?.cache) {
    const young = new Set<string>();
    // A cache's untagged manifests (pulled by digest) stay for the cache TTL, unless a rule or --delete-untagged says otherwise.
    const youngAfterMs = cached?.cache && !options.deleteUntagged && !rule ? cachedManifestsYoungAfter(state) : youngAfter(state);
    for (const digest of digests) {
      const stat = await store.head(revisionKey(name, parseDigest(digest)));
      if (!stat || stat.modifiedMs > youngAfterMs) young.add(digest);
    }
    const reached = reachable(manifests, [...tags.map((t) => t.digest), ...young]);
    const unreached = digests.filter((d) => !reached.has(d));
    const collected = options.dryRun ? unreached : await deleteRevisions(store, state, name, unreached, manifests);
    for (const digest of collected) {
      keep.delete(digest);
      report.manifests.push(`${name}@${digest}`);
    }
  }
  // A manifest whose collection was refused (re-tagged, re-pushed) stays, and so does what it names.
  for (const digest of keep) markManifest(state.marked, digest, manifests.get(digest)!);
}

/** Manifests a root keeps: the roots, their index children, and referrers of kept subjects. */
function reachable(manifests: Map<string, ManifestRefs>, roots: string[]): Set<string> {
  const kept = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [digest, refs] of manifests) {
      const add = (d: string) => !kept.has(d) && (kept.add(d), (grew = true));
      if (kept.has(digest)) refs.children.forEach(add);
      else if (refs.subject && kept.has(refs.subject)) add(digest);
    }
  }
  return kept;
}

/** Delete a tag a retention rule does not keep, unless it was re-pushed since it was read. */
async function deleteTag(store: BlobStore, name: string, entry: TagEntry): Promise<boolean> {
  const key = tagKey(name, entry.tag);
  return sweepKey(store, key, async () => (await readText(store, key)) === entry.text && (await store.head(key))?.modifiedMs === entry.pushedMs);
}

/**
 * Collect unreached manifests under sweep marks: after the marks are up, the tags are read
 * once more and each revision's write time again; one re-pushed (young) or tagged since stays.
 */
async function deleteRevisions(store: BlobStore, state: GcState, name: string, digests: string[], manifests: Map<string, ManifestRefs>): Promise<string[]> {
  if (digests.length === 0) return [];
  const keys = digests.map((digest) => revisionKey(name, parseDigest(digest)));
  const markedAt = Date.now();
  for (const key of keys) await store.put(sweepMarkKey(key), new Uint8Array(0));
  const deleted: string[] = [];
  try {
    const tagged = new Set((await readTags(store, name)).map((t) => t.digest));
    for (const [i, digest] of digests.entries()) {
      const stat = await store.head(keys[i]!);
      if (!stat || stat.modifiedMs > youngAfter(state) || tagged.has(digest)) continue;
      if (Date.now() - markedAt > SWEEP_MARK_TTL_MS) break;
      await store.delete(keys[i]!);
      const subject = manifests.get(digest)!.subject;
      if (subject) await store.delete(referrerKey(name, parseDigest(subject), parseDigest(digest)));
      state.seen.delete(keys[i]!); // if it is pushed again before the sweep, the sweep reads it as new
      deleted.push(digest);
    }
  } finally {
    for (const key of keys) await store.delete(sweepMarkKey(key));
  }
  return deleted;
}
