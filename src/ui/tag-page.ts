/**
 * One page of a repository's tags with what the UI shows per tag. By name it pages by key
 * (`last`), reading only the page; by date it must read every tag's link to order them
 * (one small object per tag), then pages by `offset`.
 */
import { BoundedCache, stringBytes } from "../bounded-cache.ts";
import type { Context } from "../context.ts";
import { tagFromKey, tagKey, tagsPrefix } from "../paths.ts";
import { readRepositoryPushedAt, readText } from "../repository.ts";
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

export async function listTagPage(ctx: Context, name: string, facts: ConfigFactsCache, order: DateOrderCache, query: TagPageQuery) {
  // One listing serves the page, the count and the date order (a file tree walks its folder once).
  const keys = (await ctx.store.list(tagsPrefix(name))).keys;
  let links: Link[];
  let next: string | number | null;
  if (query.sort === "name") {
    const from = query.last === undefined ? 0 : firstAfter(keys, tagKey(name, query.last));
    const page = keys.slice(from, from + query.n);
    links = await readLinks(ctx, name, page);
    next = from + query.n < keys.length && page.length ? tagFromKey(name, page.at(-1)!) : null;
  } else {
    const all = await sortByDate(ctx, name, keys, order);
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
  return { sort: query.sort, tagCount: keys.length, tags, next };
}

type Link = TagLink & { tag: string };

/** Repositories with this many tags keep their date order in the cache. */
const BIG = 500;

function sortByDate(ctx: Context, name: string, keys: string[], order: DateOrderCache): Promise<Link[]> {
  return order.sorted(ctx, name, keys, async () => {
    const read = await readLinks(ctx, name, keys);
    // Newest first; links from before push dates were stored go last, by name.
    return read.sort((a, b) => (b.pushedAt ?? "").localeCompare(a.pushedAt ?? "") || a.tag.localeCompare(b.tag));
  });
}

/** Index of the first key greater than `key` in sorted `keys` (binary search). */
function firstAfter(keys: string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (keys[mid]! <= key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The date order of big repositories, so paging through 10,000 tags by date does not read
 * 10,000 links per page. Only a cache: an entry is used when the store still shows the same
 * tag keys and the same last push (every manifest push rewrites it, in any process);
 * otherwise the links are read again.
 */
export class DateOrderCache {
  // The promise, so a request arriving while the order is being read waits for that read.
  // Bounded by the keys it holds (the links read from them are of the same order): 16 MiB.
  private readonly entries = new BoundedCache<{ pushedAt: string; keys: string[]; links: Promise<Link[]> }>(
    16 * 1024 * 1024,
    (name, entry) => stringBytes(name) + entry.keys.reduce((sum, key) => sum + 2 * stringBytes(key) + 160, 0),
  );

  async sorted(ctx: Context, name: string, keys: string[], read: () => Promise<Link[]>): Promise<Link[]> {
    if (keys.length < BIG) return read();
    const pushedAt = await readRepositoryPushedAt(ctx, name);
    const hit = this.entries.get(name);
    if (pushedAt !== null && hit && hit.pushedAt === pushedAt && sameKeys(hit.keys, keys)) return hit.links;
    const links = read();
    if (pushedAt === null) return links; // data from before push dates: nothing to check against
    this.entries.set(name, { pushedAt, keys, links });
    links.catch(() => this.entries.get(name)?.links === links && this.entries.delete(name));
    return links;
  }
}

const sameKeys = (a: string[], b: string[]) => a.length === b.length && a.every((key, i) => key === b[i]);

async function readLinks(ctx: Context, name: string, keys: string[]): Promise<Link[]> {
  const links = await mapLimited(keys, async (key) => {
    const text = await readText(ctx, key);
    if (text === null) return null;
    const link = { ...(JSON.parse(text) as TagLink), tag: tagFromKey(name, key) };
    link.pushedAt ??= await modifiedAt(ctx, key);
    return link;
  });
  return links.filter((link) => link !== null); // deleted while listing
}

/**
 * A tag written before Berth stored push times: the store's modification time of its link,
 * when the store reports one (`modifiedMs`, which stores that support GC add to `head`).
 */
async function modifiedAt(ctx: Context, key: string): Promise<string | undefined> {
  const ms = ((await ctx.store.head(key)) as { modifiedMs?: unknown } | null)?.modifiedMs;
  return typeof ms === "number" && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
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
