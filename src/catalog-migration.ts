/**
 * Moving the repository index from its first layout (`catalog/<name>/_repo`, which does not
 * sort like names) to `repositories-index/<name>+` (src/paths.ts). Stores written before
 * the change stay readable: the first catalog request, or a repository not found in the
 * new index, moves every old key over (write the new key, then delete the old, so a crash
 * at any point loses nothing and a rerun finishes the job). Any number of processes may
 * run it at once: every step is idempotent. Once the old prefix is empty, a process never
 * looks again.
 */
import type { Context } from "./context.ts";
import type { BlobStore } from "./storage/blob-store.ts";
import { catalogKey, LEGACY_CATALOG_PREFIX, LEGACY_CATALOG_SUFFIX } from "./paths.ts";
import { readBytes } from "./streams.ts";

const done = new WeakMap<Context, Promise<void>>();

export function migrateCatalog(ctx: Context): Promise<void> {
  let migration = done.get(ctx);
  if (!migration) {
    migration = moveLegacyIndex(ctx.store);
    done.set(ctx, migration);
    migration.catch(() => done.delete(ctx)); // a failed run is retried by the next request
  }
  return migration;
}

/** Move every key of the first layout; garbage collection runs it before it lists repositories. */
export async function moveLegacyIndex(store: BlobStore): Promise<void> {
  for (;;) {
    const page = await store.list(LEGACY_CATALOG_PREFIX, { limit: 1000 });
    if (page.keys.length === 0) return;
    for (const key of page.keys) {
      if (key.endsWith(LEGACY_CATALOG_SUFFIX)) {
        const name = key.slice(LEGACY_CATALOG_PREFIX.length, -LEGACY_CATALOG_SUFFIX.length);
        // The marker's bytes move too (newer markers hold the last push time).
        const marker = await store.get(key);
        if (marker && !(await store.head(catalogKey(name)))) await store.put(catalogKey(name), await readBytes(marker));
      }
      await store.delete(key);
    }
  }
}
