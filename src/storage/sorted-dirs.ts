/**
 * Directory entries in the order their keys sort, for FileTreeStore's listings. A directory
 * `d` holds keys `d/...`, so it sorts as `d/` among its siblings ("a-b" < "a/x" < "a0").
 */
import type { FileSystem } from "./file-tree.ts";
import { BoundedCache, keyBytes } from "../byte-cache.ts";

export interface SortedEntry {
  name: string;
  isDirectory: boolean;
  /** How the entry's keys sort among its siblings': a directory `d` as `d/`. */
  sortKey: string;
}

// Directory listings worth caching (big ones: a catalog, a repository's tags), how long a
// directory must have been unchanged before its listing is trusted, and the cache's bound.
const CACHE_MIN_ENTRIES = 256;
const STILL_MS = 2_000;
// 128 MiB: a listing of 100k entries takes ~18 MiB; one entry may take up to a quarter (32 MiB, ~180k).
const CACHE_MAX_BYTES = 128 * 1024 * 1024;
/** An entry: its name twice (name and sort key, UTF-16) and the object around them. */
const listingBytes = (path: string, listing: { entries: SortedEntry[] }) =>
  keyBytes(path) + listing.entries.reduce((sum, entry) => sum + 4 * entry.name.length + 96, 0);

export class SortedDirectories {
  /** Sorted listings of big, still directories, by path, least recently used first; only saves readDirs. */
  private readonly listings = new BoundedCache<{ mtimeMs: number; entries: SortedEntry[] }>(CACHE_MAX_BYTES, listingBytes);

  constructor(private readonly fs: FileSystem) {}

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
    if (cached && stat.mtimeMs !== undefined && cached.mtimeMs === stat.mtimeMs) return cached.entries;
    const entries = (await this.fs.readDir(path).catch(ifMissing(this.fs, [])))
      .filter((entry) => entry.isDirectory || entry.isFile)
      .map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory, sortKey: entry.isDirectory ? `${entry.name}/` : entry.name }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    if (stat.mtimeMs !== undefined && before - stat.mtimeMs > STILL_MS && entries.length >= CACHE_MIN_ENTRIES) this.listings.set(path, { mtimeMs: stat.mtimeMs, entries });
    return entries;
  }
}

function ifMissing<T>(fs: FileSystem, fallback: T): (error: unknown) => T {
  return (error) => {
    if (fs.isMissing(error)) return fallback;
    throw error;
  };
}
