import { bodyOfBytes } from "../streams.ts";
import { NotFoundError, type BlobStore, type ByteRange, type ListOptions, type ListResult, type ObjectBody, type ObjectStat, type PutOptions } from "./blob-store.ts";

/**
 * The reference BlobStore: a Map of byte arrays. For tests and embedding; it holds
 * everything in memory by design, so it is not for large registries.
 */
export class MemoryStore implements BlobStore {
  readonly driver: string = "inmemory";
  private readonly objects = new Map<string, Uint8Array<ArrayBuffer>>();
  private readonly modified = new Map<string, number>();

  async head(key: string): Promise<ObjectStat | null> {
    const bytes = this.objects.get(key);
    return bytes ? { size: bytes.byteLength, modifiedMs: this.modified.get(key)! } : null;
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    const bytes = this.objects.get(key);
    if (!bytes) return null;
    const slice = range ? bytes.subarray(range.offset, range.offset + range.length) : bytes;
    return bodyOfBytes(bytes.byteLength, slice);
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, _options?: PutOptions): Promise<number> {
    // Collect first, then publish: a stream that errors leaves the old value in place.
    const bytes: Uint8Array<ArrayBuffer> = body instanceof Uint8Array ? new Uint8Array(body) : new Uint8Array(await new Response(body).arrayBuffer());
    this.set(key, bytes);
    return bytes.byteLength;
  }

  async concat(sources: string[], dest: string): Promise<void> {
    const parts = sources.map((key) => {
      const bytes = this.objects.get(key);
      if (!bytes) throw new NotFoundError(key);
      return bytes;
    });
    this.set(dest, new Uint8Array(await new Blob(parts).arrayBuffer()));
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
    this.modified.delete(key);
  }

  private set(key: string, bytes: Uint8Array<ArrayBuffer>): void {
    this.objects.set(key, bytes);
    this.modified.set(key, Date.now());
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const limit = options.limit ?? Infinity;
    const matching = [...this.objects.keys()]
      .filter((key) => key.startsWith(prefix) && (options.startAfter === undefined || key > options.startAfter))
      .sort();
    return { keys: matching.slice(0, limit), truncated: matching.length > limit };
  }
}
