/**
 * The handshake that makes garbage collection safe while the registry serves the same store,
 * with no locks and no conditional writes (see README, "Storage lifecycle"). Both sides
 * write first and read the other side's mark second:
 *
 * - the collector puts a sweep mark `gc/sweeping/<key>` before it deletes `<key>`, then
 *   re-reads everything that could make `<key>` live (a manifest listing it, a fresh write, a
 *   touch), deletes it only if nothing does, and removes the mark;
 * - the serving path first writes what makes a key live (a revision, a tag, a link, a touch),
 *   then calls `survivesSweep(key)`: it waits while a sweep mark stands and then checks the
 *   key still exists.
 *
 * With linearizable single-key operations one of the two always sees the other: either the
 * collector's re-check sees the serving path's write and keeps the key, or the serving path
 * sees the mark, waits for the sweep to settle, and learns whether the key is still there.
 */
import type { Digest } from "../digest.ts";
import { BoundedCache, stringBytes } from "../bounded-cache.ts";
import { sweepMarkKey, touchKey } from "../paths.ts";
import type { BlobStore } from "../storage/blob-store.ts";

/**
 * The longest a sweep mark may stand. The collector never deletes a key more than this long
 * after marking it (it checks the clock before each delete); the serving path takes a mark
 * older than twice this for a crashed collector's and stops waiting for it.
 */
export const SWEEP_MARK_TTL_MS = 120_000;

/**
 * Touches of a blob are written at most this often per blob per process (a HEAD burst writes
 * once); the collector keeps a blob touched within grace + this.
 */
export const TOUCH_INTERVAL_MS = 5_000;

const touched = new WeakMap<BlobStore, BoundedCache<number>>();

/** Record that a client was just told `digest` exists (HEAD 200, mount 201, upload 201). */
export async function touchBlob(store: BlobStore, digest: Digest): Promise<void> {
  let cache = touched.get(store);
  if (!cache) touched.set(store, (cache = new BoundedCache(1024 * 1024, (digest) => stringBytes(digest) + 48)));
  const now = Date.now();
  if (now - (cache.get(digest.value) ?? 0) < TOUCH_INTERVAL_MS) return; // a cache: it only skips a repeat write
  await store.put(touchKey(digest), new Uint8Array(0));
  cache.set(digest.value, now);
}

/**
 * Call after writing (or relying on) `key`: waits while a collector's sweep mark on it stands,
 * then answers whether `key` exists. True means no sweep that began before this call can
 * remove it: such a sweep either saw the write (and kept the key) or has settled.
 */
export async function survivesSweep(store: BlobStore, key: string): Promise<boolean> {
  await waitForSweep(store, key);
  return (await store.head(key)) !== null;
}

async function waitForSweep(store: BlobStore, key: string): Promise<void> {
  for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
    const mark = await store.head(sweepMarkKey(key));
    if (!mark || Date.now() - mark.modifiedMs > 2 * SWEEP_MARK_TTL_MS) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
