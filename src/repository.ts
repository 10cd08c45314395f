/** Per-repository links: which blobs and manifests a repository may serve. */
import type { Context } from "./context.ts";
import type { Digest } from "./digest.ts";
import { migrateCatalog } from "./catalog-migration.ts";
import { blobKey, catalogKey, layerLinkKey } from "./paths.ts";
import { readBytes } from "./streams.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function linkBlob(ctx: Context, name: string, digest: Digest): Promise<void> {
  await ctx.store.put(layerLinkKey(name, digest), encoder.encode(digest.value));
  await markRepository(ctx, name);
}

/** Size of a blob the repository may read, or null. */
export async function statLinkedBlob(ctx: Context, name: string, digest: Digest): Promise<number | null> {
  if (!(await ctx.store.head(layerLinkKey(name, digest)))) return null;
  return (await ctx.store.head(blobKey(digest)))?.size ?? null;
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
