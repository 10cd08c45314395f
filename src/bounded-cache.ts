/**
 * The one in-memory cache shape: least recently used first out, bounded by an estimate of
 * the bytes its entries hold, not by their count, so memory stays bounded whatever the
 * entries are (issue 17: RSS must level off under sustained load). `sizeOf` estimates one
 * entry's bytes (key included); an entry bigger than a quarter of the bound is not kept.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private bytes = 0;
  /** The key last put at the end of the order: getting it again needs no re-insert. */
  private newest: string | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (key: string, value: V) => number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-insert: Map iteration order is insertion order, so the oldest entry comes first.
    // (A hot key asked for again and again, a token or a tag, is already last.)
    if (key !== this.newest) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.newest = key;
    }
    return entry.value;
  }

  /** Whether `key` is kept, without counting as a use. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, value: V): void {
    const bytes = this.sizeOf(key, value);
    this.delete(key);
    if (bytes > this.maxBytes / 4) return;
    this.entries.set(key, { value, bytes });
    this.newest = key;
    this.bytes += bytes;
    for (const [oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    if (key === this.newest) this.newest = undefined;
  }
}

/** Rough bytes of a string held in memory (V8: a header and one byte per Latin-1 char). */
export const stringBytes = (text: string): number => 24 + text.length;
