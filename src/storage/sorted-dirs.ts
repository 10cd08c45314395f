/**
 * FileTreeStore's listings: directory entries in the order their keys sort, and the walk
 * that pages through them. A directory `d` holds keys `d/...`, so it sorts as `d/` among
 * its siblings ("a-b" < "a/x" < "a0").
 */
import type { FileSystem } from "./file-system.ts";

export interface SortedEntry {
  name: string;
  isDirectory: boolean;
  /** How the entry's keys sort among its siblings': a directory `d` as `d/`. */
  sortKey: string;
}

// Directory listings worth caching (big ones: a catalog, a repository's tags), how long a
// directory must have been unchanged before its listing is trusted, and the cache's bound in
// bytes (a 100k-repository catalog directory takes ~10 MiB).
const CACHE_MIN_ENTRIES = 256;
const STILL_MS = 2_000;
export const LISTING_CACHE_BYTES = 32 * 1024 * 1024;
/** What one cached entry holds on to: the object, its name and (for a directory) its sort key. */
const entryBytes = (entry: SortedEntry) => 64 + (entry.isDirectory ? 2 : 1) * (entry.name.length + 8);

export class SortedDirectories {
  /** Sorted listings of big, still directories, by path, least recently used first; only saves readDirs. */
  private readonly listings = new Map<string, { mtimeMs: number; entries: SortedEntry[]; bytes: number }>();
  private cachedBytes = 0;

  /** `hiddenAtRoot`: entries of `root` itself that hold no keys (the store's temp folder). */
  constructor(
    private readonly fs: FileSystem,
    private readonly root: string,
    private readonly hiddenAtRoot: string[] = [],
  ) {}

  /**
   * The entries of a directory sorted as their keys sort. Cached per directory while its
   * mtime stays what it was, and only for a directory that had been still for a while when
   * read: a change within the clock tick of the reading would not move the mtime (the
   * racy-git rule). A cache miss costs a readDir, never a wrong answer.
   */
  async entries(path: string): Promise<SortedEntry[]> {
    const before = Date.now();
    const stat = await this.fs.stat(path).catch(ifMissing(this.fs, null));
    if (!stat) return [];
    const cached = this.listings.get(path);
    if (cached && stat.mtimeMs !== undefined && cached.mtimeMs === stat.mtimeMs) {
      this.listings.delete(path); // refresh its place: the map is kept in least-recently-used order
      this.listings.set(path, cached);
      return cached.entries;
    }
    const entries = (await this.fs.readDir(path).catch(ifMissing(this.fs, [])))
      .filter((entry) => entry.isDirectory || entry.isFile)
      .map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory, sortKey: entry.isDirectory ? `${entry.name}/` : entry.name }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    if (stat.mtimeMs !== undefined && before - stat.mtimeMs > STILL_MS && entries.length >= CACHE_MIN_ENTRIES) this.remember(path, stat.mtimeMs, entries);
    return entries;
  }

  private remember(path: string, mtimeMs: number, entries: SortedEntry[]): void {
    const bytes = entries.reduce((sum, entry) => sum + entryBytes(entry), 0);
    if (bytes > LISTING_CACHE_BYTES) return;
    this.cachedBytes -= this.listings.get(path)?.bytes ?? 0;
    this.listings.delete(path);
    this.listings.set(path, { mtimeMs, entries, bytes });
    this.cachedBytes += bytes;
    for (const [oldest, listing] of this.listings) {
      if (this.cachedBytes <= LISTING_CACHE_BYTES) break;
      this.listings.delete(oldest);
      this.cachedBytes -= listing.bytes;
    }
  }

  /**
   * Keys under `dir` whose next segment starts with `leaf` and that sort after `startAfter`,
   * in key order, into `into` until it holds `want`. A directory `d` holds keys `d/...`, so
   * it sorts as `d/` among its siblings.
   */
  async collectKeys(dir: string[], leaf: string, startAfter: string | undefined, into: string[], want: number): Promise<void> {
    const here = dir.length === 0 ? "" : `${dir.join("/")}/`;
    const entries = (await this.entries(this.fs.join(this.root, ...dir))).filter((entry) => !(dir.length === 0 && this.hiddenAtRoot.includes(entry.name)));
    // Skip to the first entry whose keys can come after startAfter (binary search on sort keys).
    let index = 0;
    if (startAfter !== undefined && startAfter.startsWith(here)) {
      const rest = startAfter.slice(here.length);
      let low = 0;
      let high = entries.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        const entry = entries[mid]!;
        // Entirely at or before startAfter: a file not after it, a directory whose keys all sort before it.
        const before = entry.sortKey <= rest && !(entry.isDirectory && rest.startsWith(entry.sortKey));
        if (before) low = mid + 1;
        else high = mid;
      }
      index = low;
    }
    for (; index < entries.length && into.length < want; index++) {
      const entry = entries[index]!;
      if (!entry.name.startsWith(leaf)) {
        if (entry.sortKey > leaf) break; // past the names that start with leaf: they are contiguous
        continue;
      }
      if (entry.isDirectory) await this.collectKeys([...dir, entry.name], "", startAfter, into, want);
      else if (startAfter === undefined || here + entry.name > startAfter) into.push(here + entry.name);
    }
  }
}

function ifMissing<T>(fs: FileSystem, fallback: T): (error: unknown) => T {
  return (error) => {
    if (fs.isMissing(error)) return fallback;
    throw error;
  };
}
