/**
 * The collector's first phase, one repository at a time: apply its retention rule (delete the
 * tags it does not keep), collect the manifests nothing keeps (with --delete-untagged or a
 * rule), and mark everything the kept manifests reference.
 */
import { parseDigest } from "../digest.ts";
import { referrerKey, revisionKey, tagKey } from "../paths.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { keptTags, ruleFor } from "./retention.ts";
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

  const keep = new Set(manifests.keys());
  if (options.deleteUntagged || rule) {
    const young = new Set<string>();
    for (const digest of digests) {
      const stat = await store.head(revisionKey(name, parseDigest(digest)));
      if (!stat || stat.modifiedMs > youngAfter(state)) young.add(digest);
    }
    const reached = reachable(manifests, [...tags.map((t) => t.digest), ...young]);
    for (const digest of digests.filter((d) => !reached.has(d))) {
      if (options.dryRun || (await deleteRevision(store, state, name, digest, manifests.get(digest)!))) {
        keep.delete(digest);
        report.manifests.push(`${name}@${digest}`);
      }
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

/** Collect an unreached manifest, unless it was re-pushed (young again) or a tag reaches it now. */
async function deleteRevision(store: BlobStore, state: GcState, name: string, digest: string, refs: ManifestRefs): Promise<boolean> {
  const d = parseDigest(digest);
  const key = revisionKey(name, d);
  const deleted = await sweepKey(store, key, async () => {
    const stat = await store.head(key);
    if (!stat || stat.modifiedMs > youngAfter(state)) return false;
    return !(await readTags(store, name)).some((t) => t.digest === digest);
  });
  if (!deleted) return false;
  if (refs.subject) await store.delete(referrerKey(name, parseDigest(refs.subject), d));
  // If it is pushed again before the sweep, the sweep must read it as new (walk.ts, remark).
  state.seen.delete(key);
  return true;
}
