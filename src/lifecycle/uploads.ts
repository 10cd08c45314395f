/** Upload sessions idle longer than the expiry, purged by the collector one page at a time. */
import { UPLOAD_ID, UPLOADS_PREFIX, uploadPrefix, uploadStateKey } from "../paths.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import type { GcState } from "./state.ts";
import { readText } from "./walk.ts";

/** One page of `uploads/`; returns false when the listing is done. */
export async function purgeUploadPage(store: BlobStore, state: GcState): Promise<boolean> {
  const page = await store.list(UPLOADS_PREFIX, { startAfter: state.cursor, limit: 1000 });
  const ids = new Set(page.keys.map((key) => key.slice(UPLOADS_PREFIX.length).split("/")[0]!).filter((id) => UPLOAD_ID.test(id)));
  for (const id of ids) if (await isExpired(store, state, id)) {
    state.report.uploads++;
    if (!state.options.dryRun) await purgeUpload(store, id);
  }
  // Resume after this page's last session, so a session split across pages is looked at once.
  const last = [...ids].at(-1);
  state.cursor = !page.truncated ? undefined : last ? `${uploadPrefix(last)}\uffff` : page.keys.at(-1);
  return page.truncated;
}

/** Idle past the expiry by its state (updatedAt), or, with no state left (a crash), by its parts' age. */
async function isExpired(store: BlobStore, state: GcState, id: string): Promise<boolean> {
  const limit = state.startedAt - state.options.uploadExpiryMs;
  const text = await readText(store, uploadStateKey(id));
  if (text !== null) {
    try {
      return (JSON.parse(text) as { updatedAt: number }).updatedAt < limit;
    } catch {
      return false;
    }
  }
  const { keys } = await store.list(uploadPrefix(id));
  for (const key of keys) if (((await store.head(key))?.modifiedMs ?? Infinity) > limit) return false;
  return keys.length > 0;
}

/** Parts first, state last, as upload-sessions.ts does: a session without state is unknown everywhere. */
async function purgeUpload(store: BlobStore, id: string): Promise<void> {
  const { keys } = await store.list(uploadPrefix(id));
  for (const key of keys) if (key !== uploadStateKey(id)) await store.delete(key);
  await store.delete(uploadStateKey(id));
}
