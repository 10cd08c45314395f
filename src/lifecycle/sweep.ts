/**
 * The collector's sweep: blobs no kept manifest references, dangling links, empty
 * repositories. Every delete goes through a sweep mark (walk.ts `sweepKey`, sweep-marks.ts).
 */
import { parseDigest } from "../digest.ts";
import { blobKey, BLOBS_PREFIX, catalogKey, digestTextOfBlobKey, digestTextOfLinkKey, layersPrefix, proxyRoot, referrersRoot, revisionKey, revisionsPrefix, sweepMarkKey, tagsPrefix, touchKey } from "../paths.ts";
import type { BlobStore, ObjectStat } from "../storage/blob-store.ts";
import { SWEEP_MARK_TTL_MS } from "./sweep-marks.ts";
import { youngAfter, type GcState } from "./state.ts";
import { listKeys, listRepositories, listRevisionDigests, markManifest, readManifestRefs, sweepKey } from "./walk.ts";

/** Blobs looked at per step; also the most sweep marks standing at once. */
export const SWEEP_BATCH = 500;

/**
 * One page of the whole blob listing (every algorithm, in key order, from `state.cursor`);
 * unmarked blobs collect in `state.pending` and are swept SWEEP_BATCH at a time (and at the
 * end). Returns false when the listing is done.
 *
 * One listing, not one per shard directory: on an object store every LIST is a request, and
 * 512 shard prefixes cost 512 of them (seconds, on S3) even for an empty registry. A
 * filesystem store pages through the shard directories in order just the same.
 */
export async function sweepBlobPage(store: BlobStore, state: GcState): Promise<boolean> {
  const pending = (state.pending ??= []);
  const page = await store.list(BLOBS_PREFIX, { startAfter: state.cursor, limit: SWEEP_BATCH });
  for (const key of page.keys) {
    const digest = digestTextOfBlobKey(key); // null for a stray key: it must not stop every run on this page
    if (!digest || !key.endsWith("/data")) continue;
    state.report.examined++;
    if (!state.marked.has(digest)) pending.push(digest);
  }
  state.cursor = page.truncated ? page.keys.at(-1) : undefined;
  if (pending.length >= SWEEP_BATCH || (!page.truncated && pending.length > 0)) {
    await sweepCandidates(store, state, pending.splice(0));
  }
  return page.truncated;
}

/**
 * Mark every candidate, then re-read what may have been pushed since the plan (new revisions
 * anywhere), then delete each candidate that is still unreferenced and old, never more than
 * SWEEP_MARK_TTL_MS after its mark went up. A manifest PUT that finished its checks before
 * the marks is found by the re-read; one that checks after them waits and sees the outcome.
 */
async function sweepCandidates(store: BlobStore, state: GcState, unmarked: string[]): Promise<void> {
  const { report } = state;
  // Young blobs are left alone before any mark goes up: a mark makes HEADs and uploads of the blob wait.
  const candidates: string[] = [];
  await forEachLimited(unmarked, async (digest) => {
    const { data, young } = await blobAge(store, state, digest);
    if (young) report.young++;
    else if (data) candidates.push(digest);
  });
  const keys = candidates.map((digest) => blobKey(parseDigest(digest)));
  const markedAt = Date.now();
  try {
    // Inside the try: when one mark fails to go up, those that did still come down.
    if (!state.options.dryRun) await forEachLimited(keys, (key) => store.put(sweepMarkKey(key), new Uint8Array(0)).then(() => {}), { stopAtError: true });
    if (!state.options.dryRun) await markNewRevisions(store, state);
    let late = false;
    // After an error no new blob starts (a failing store would make each wait out its timeouts while serving waits on the marks).
    await forEachLimited(candidates, async (digest) => {
      if (late || state.marked.has(digest)) return; // referenced since
      const { data, young } = await blobAge(store, state, digest);
      if (!data || young) return; // gone or touched since
      if (Date.now() - markedAt > SWEEP_MARK_TTL_MS) return void (late = true); // too late to trust the marks: the next run gets the rest
      if (!state.options.dryRun) {
        const d = parseDigest(digest);
        await store.delete(blobKey(d));
        await store.delete(touchKey(d));
      }
      report.blobs++;
      report.bytes += data.size;
    }, { stopAtError: true });
  } finally {
    if (!state.options.dryRun) await forEachLimited(keys, (key) => store.delete(sweepMarkKey(key)));
  }
}

/**
 * The blob's data (null: gone), and whether it is young: written or touched after the run's
 * young-after time (state.ts). Both HEADs at once: on S3 each is a round trip.
 */
async function blobAge(store: BlobStore, state: GcState, digest: string): Promise<{ data: ObjectStat | null; young: boolean }> {
  const d = parseDigest(digest);
  const [data, touch] = await Promise.all([store.head(blobKey(d)), store.head(touchKey(d))]);
  const young = data !== null && (data.modifiedMs > youngAfter(state) || (touch !== null && touch.modifiedMs > youngAfter(state)));
  return { data, young };
}

/** Revisions that appeared since they were listed for marking: read and mark them now. */
async function markNewRevisions(store: BlobStore, state: GcState): Promise<void> {
  for (const name of await listRepositories(store)) {
    for (const digest of await listRevisionDigests(store, name)) {
      const key = revisionKey(name, parseDigest(digest));
      if (state.seen.has(key)) continue;
      state.seen.add(key);
      markManifest(state.marked, digest, await readManifestRefs(store, digest));
    }
  }
}

/** Links to blobs that are gone, then the repository itself when nothing is left in it. */
export async function tidyRepository(store: BlobStore, state: GcState, name: string): Promise<void> {
  const { report, options } = state;
  for (const link of await listKeys(store, layersPrefix(name))) {
    const digest = digestTextOfLinkKey(link);
    if (!digest) continue;
    const blob = blobKey(parseDigest(digest));
    const dangling = async () => !(await store.head(blob)) && ((await store.head(link))?.modifiedMs ?? Infinity) <= youngAfter(state);
    if (!(await dangling())) continue; // most links: no mark for them (a mark makes a mount wait)
    if (options.dryRun || (await sweepKey(store, link, dangling))) report.links++;
  }
  if (options.dryRun) return;
  const empty = async () => {
    for (const prefix of [tagsPrefix(name), revisionsPrefix(name), layersPrefix(name)]) {
      if ((await store.list(prefix, { limit: 1 })).keys.length) return false;
    }
    return true;
  };
  if (!(await empty())) return;
  if (await sweepKey(store, catalogKey(name), empty)) {
    // Referrer entries of collected manifests may remain under the repository: nothing reads them now.
    for (const key of await listKeys(store, referrersRoot(name))) await store.delete(key);
    // So is the pull-through cache's record of when its tags were last checked upstream.
    for (const key of await listKeys(store, proxyRoot(name))) await store.delete(key);
    report.repositories.push(name);
  }
}

/** Remove sweep marks a crashed collector left (older than the serving path honours). */
export async function removeStaleSweepMarks(store: BlobStore): Promise<void> {
  for (const key of await listKeys(store, "gc/sweeping/")) {
    const stat = await store.head(key);
    if (stat && Date.now() - stat.modifiedMs > 2 * SWEEP_MARK_TTL_MS) await store.delete(key);
  }
}

/**
 * Run `work` on every item, `limit` at a time: each step of the sweep is a few store round
 * trips per blob (HEADs, a mark, deletes), which on S3 are network latency, not work. It
 * returns (throwing the first error) only once every started item has settled, so no delete
 * runs after the marks come down. After an error, with `stopAtError` no new item starts;
 * without it every item is still tried (removing marks: one failure leaves no other mark up).
 */
async function forEachLimited(items: string[], work: (item: string) => Promise<void>, { limit = 8, stopAtError = false } = {}): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length && !(stopAtError && errors.length)) {
      const item = items[next++]!;
      await Promise.resolve()
        .then(() => work(item))
        .catch((error: unknown) => void errors.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
}
