/**
 * One page of a repository's tags with what the UI shows per tag. By name it pages by key
 * (`last`), reading only the page; by date it must read every tag's link to order them
 * (one small object per tag), then pages by `offset`.
 */
import type { Context } from "../context.ts";
import { tagFromKey, tagKey, tagsPrefix } from "../paths.ts";
import { listAll, readText } from "../repository.ts";
import type { TagLink } from "../routes/manifests.ts";
import { summarizeManifest, type ConfigFactsCache, type Platform } from "./summaries.ts";

export interface TagRow {
  tag: string;
  digest: string;
  mediaType: string;
  artifactType?: string;
  size: number;
  /** Bytes of this tag's layers that another manifest on the same page also uses. */
  sharedSize: number;
  pushedAt: string | null;
  created: string | null;
  platforms?: Platform[];
}

export interface TagPageQuery {
  sort: "name" | "date";
  n: number;
  last?: string;
  offset: number;
}

const CONCURRENCY = 32;

export async function listTagPage(ctx: Context, name: string, facts: ConfigFactsCache, query: TagPageQuery) {
  let links: (TagLink & { tag: string })[];
  let next: string | number | null;
  if (query.sort === "name") {
    const startAfter = query.last === undefined ? undefined : tagKey(name, query.last);
    const page = await ctx.store.list(tagsPrefix(name), { startAfter, limit: query.n });
    links = await readLinks(ctx, name, page.keys);
    next = page.truncated ? (page.keys.length ? tagFromKey(name, page.keys.at(-1)!) : null) : null;
  } else {
    const all = await readLinks(ctx, name, await listAll(ctx, tagsPrefix(name)));
    // Newest first; links from before push dates were stored go last, by name.
    all.sort((a, b) => (b.pushedAt ?? "").localeCompare(a.pushedAt ?? "") || a.tag.localeCompare(b.tag));
    links = all.slice(query.offset, query.offset + query.n);
    next = query.offset + query.n < all.length ? query.offset + query.n : null;
  }
  const summaries = await mapLimited(links, (link) => summarizeManifest(ctx, name, link.digest, facts));
  const users = new Map<string, Set<string>>(); // layer -> manifests on this page using it
  summaries.forEach((summary, i) => {
    for (const layer of summary.layers.keys()) (users.get(layer) ?? users.set(layer, new Set()).get(layer)!).add(links[i]!.digest);
  });
  const tags: TagRow[] = links.map((link, i) => {
    const summary = summaries[i]!;
    let sharedSize = 0;
    for (const [layer, size] of summary.layers) if (users.get(layer)!.size > 1) sharedSize += size;
    return {
      tag: link.tag, digest: link.digest, mediaType: link.mediaType, artifactType: link.artifactType,
      size: summary.size, sharedSize, pushedAt: link.pushedAt ?? null, created: summary.created ?? null, platforms: summary.platforms,
    };
  });
  return { sort: query.sort, tags, next };
}

async function readLinks(ctx: Context, name: string, keys: string[]) {
  const links = await mapLimited(keys, async (key) => {
    const text = await readText(ctx, key);
    return text === null ? null : { ...(JSON.parse(text) as TagLink), tag: tagFromKey(name, key) };
  });
  return links.filter((link) => link !== null); // deleted while listing
}

/** `map` with at most CONCURRENCY reads in flight, results in order. */
async function mapLimited<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}
