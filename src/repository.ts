/** Per-repository links: which blobs and manifests a repository may serve. */
import type { Context } from "./context.ts";
import type { Digest } from "./digest.ts";
import { migrateCatalog } from "./catalog-migration.ts";
import { blobKey, CATALOG_PREFIX, catalogKey, layerLinkKey, nameFromCatalogKey } from "./paths.ts";
import { confirmLink } from "./lifecycle/serving.ts";
import { readBytes } from "./streams.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function linkBlob(ctx: Context, name: string, digest: Digest): Promise<void> {
  const link = () => ctx.store.put(layerLinkKey(name, digest), encoder.encode(digest.value)).then(() => {});
  await link();
  await markRepository(ctx, name);
  await confirmLink(ctx, layerLinkKey(name, digest), link, name, () => markRepository(ctx, name));
}

/** Size of a blob the repository may read, or null. */
export async function statLinkedBlob(ctx: Context, name: string, digest: Digest): Promise<number | null> {
  if (!(await ctx.store.head(layerLinkKey(name, digest)))) return null;
  return (await ctx.store.head(blobKey(digest)))?.size ?? null;
}

/** How many repositories a mount without `from` looks at before it gives up (and uploads). */
const MOUNT_SEARCH_LIMIT = 1000;

/**
 * A repository that links `digest` and that `mayPull` accepts, for a mount without `from`.
 * The layout has no index from a blob to the repositories linking it (keeping one would cost
 * a write on every blob push and a delete on every unlink), so: one head of the registry-wide
 * blob first (a blob nobody stored ends the search), then repositories in catalog order, one
 * link head each, at most MOUNT_SEARCH_LIMIT. Giving up is safe: the client just uploads.
 */
export async function findLinkingRepository(ctx: Context, digest: Digest, mayPull: (name: string) => Promise<boolean>): Promise<string | null> {
  if (!(await ctx.store.head(blobKey(digest)))) return null;
  let startAfter: string | undefined;
  for (let seen = 0; seen < MOUNT_SEARCH_LIMIT;) {
    const page = await ctx.store.list(CATALOG_PREFIX, { startAfter, limit: Math.min(100, MOUNT_SEARCH_LIMIT - seen) });
    for (const key of page.keys) {
      const name = nameFromCatalogKey(key);
      if ((await ctx.store.head(layerLinkKey(name, digest))) && (await mayPull(name))) return name;
    }
    if (!page.truncated) return null;
    seen += page.keys.length;
    startAfter = page.keys.at(-1);
  }
  return null;
}

export async function markRepository(ctx: Context, name: string): Promise<void> {
  if (!(await ctx.store.head(catalogKey(name)))) await ctx.store.put(catalogKey(name), new Uint8Array(0));
}

/** Marks the repository and remembers its last manifest push (the UI's "last pushed"). */
export async function touchRepository(ctx: Context, name: string, pushedAt: string): Promise<void> {
  await writeJson(ctx, catalogKey(name), { pushedAt });
}

/** When a manifest was last pushed to the repository; null for older data (an empty marker). */
export async function readRepositoryPushedAt(ctx: Context, name: string): Promise<string | null> {
  const text = await readText(ctx, catalogKey(name));
  if (!text) return null;
  try {
    const pushedAt = (JSON.parse(text) as { pushedAt?: unknown }).pushedAt;
    return typeof pushedAt === "string" ? pushedAt : null;
  } catch {
    return null;
  }
}

export async function repositoryExists(ctx: Context, name: string): Promise<boolean> {
  if (await ctx.store.head(catalogKey(name))) return true;
  await migrateCatalog(ctx); // stored before the index moved? (once per process, then free)
  return (await ctx.store.head(catalogKey(name))) !== null;
}

export async function readText(ctx: Context, key: string): Promise<string | null> {
  const object = await ctx.store.get(key);
  return object ? decoder.decode(await readBytes(object)) : null;
}

export async function writeJson(ctx: Context, key: string, value: unknown): Promise<void> {
  await ctx.store.put(key, encoder.encode(JSON.stringify(value)));
}

/** Every key under `prefix`, following the store's pages. For small sets (tags, catalog). */
export async function listAll(ctx: Context, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await ctx.store.list(prefix, { startAfter, limit: 1000 });
    keys.push(...page.keys);
    if (!page.truncated) return keys;
    startAfter = page.keys.at(-1);
  }
}
