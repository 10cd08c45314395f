/**
 * A least-recently-used cache bounded by an estimate of the bytes it holds, not by its entry
 * count: every in-process cache of Berth uses it, so memory under load has a bound the README
 * can state. `sizeOf` estimates one entry (key and value); an entry over a quarter of the bound
 * is not kept. A cache only saves work: a miss costs a lookup elsewhere, never a wrong answer.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, { value: V; size: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (key: string, value: V) => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Bytes the cache holds now, by its estimate (never more than its bound). */
  get heldBytes(): number {
    return this.bytes;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-insert: Map iteration order is insertion order, so the least recently used comes first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    const size = this.sizeOf(key, value);
    if (size > this.maxBytes / 4) return;
    this.entries.set(key, { value, size });
    this.bytes += size;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.size;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.size;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** What a key and a small object around it cost, roughly: UTF-16 string bytes plus headers. */
export const keyBytes = (key: string) => 2 * key.length + 64;

/** Immutable bytes by key (manifests by digest): content-addressed bytes never change. */
export class ByteCache extends BoundedCache<Uint8Array<ArrayBuffer>> {
  constructor(maxBytes: number) {
    super(maxBytes, (key, value) => keyBytes(key) + value.byteLength);
  }

  override set(key: string, value: Uint8Array<ArrayBuffer>): void {
    if (this.get(key) === undefined) super.set(key, value);
  }
}
